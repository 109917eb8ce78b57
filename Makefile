# Townsquare — the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgres://root@127.0.0.1:5432/test
# The member pages' benchmark fills (and refills) a database of its own, never the tests' one.
BENCH_PG_URL ?= postgres://root@127.0.0.1:5432/townsquare_bench

.PHONY: demo test lint types test-sqlite test-postgres services bench bench-members bench-work bench-reports models install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## Build the demo community through the real importers and serve it on http://127.0.0.1:8000
demo: $(STAMP)
	$(BIN)/townsquare demo

## Lint, types, and the whole suite on SQLite and on PostgreSQL
test: $(STAMP) services lint types test-sqlite test-postgres

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy townsquare benchmarks

services:
	scripts/ensure-services.sh

test-sqlite: $(STAMP)
	$(BIN)/pytest -q

test-postgres: $(STAMP)
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -q -m "not browser"

## Rebuild the shipped spam, toxicity, emotion and sentiment-label models from ../shared/data
models: $(STAMP)
	$(BIN)/python -m townsquare.listening.training

bench: $(STAMP)
	$(BIN)/python -m benchmarks.slack_import

## The member list and member page with 100,000 members and 2,000,000 interactions, on SQLite
## then PostgreSQL (docs/benchmarks.md, "Member pages"); keeps the data for the next run.
bench-members: $(STAMP)
	status=0; \
	$(BIN)/python -m benchmarks.members_pages --reuse || status=1; \
	$(BIN)/python -m benchmarks.members_pages --reuse --database-url $(BENCH_PG_URL) || status=1; \
	exit $$status

## Today, the care queue and the inbox on a copy of the member pages' data, and the care
## queue's catch-up after 10,000 new messages (docs/benchmarks.md); SQLite.
bench-work: bench-members
	$(BIN)/python -m benchmarks.work_pages

## Every chart of the Reports page over 12 months, on a copy of the member pages' data
## (docs/benchmarks.md, "Reports"); SQLite then PostgreSQL.
bench-reports: bench-members
	status=0; \
	$(BIN)/python -m benchmarks.reports_pages || status=1; \
	$(BIN)/python -m benchmarks.reports_pages --source-database-url $(BENCH_PG_URL) \
		--database-url $(BENCH_PG_URL:townsquare_bench=townsquare_reports_bench) || status=1; \
	exit $$status

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache test-artifacts
