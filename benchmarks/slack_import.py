"""`make bench`: import a synthetic 1M-message Slack export and compare it with raw sqlite3.

The import runs through the real command (`townsquare import slack`) in a child process on a
fresh SQLite data directory; its wall time includes start-up and parsing, and its peak memory is
the child's own maximum resident set size from wait4(). The ceiling writes the very rows the
import wrote (read back from its database before the clock starts) with plain sqlite3
executemany into a copy of the same freshly migrated empty database, in one transaction, with
the same PRAGMAs: what the disk and SQLite allow, with no parsing and no bookkeeping.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.slack_export import SEED, ExportSummary, generate

DEFAULT_MESSAGES = 1_000_000
DEFAULT_OUT = Path(__file__).resolve().parent / "out"
RATIO_TARGET = 0.25
RSS_TARGET_MB = 500.0
# Rows read (untimed) from the import's database per executemany of the ceiling.
CEILING_CHUNK = 50_000

# Parents before children, so the ceiling's rows satisfy their foreign keys as they go in.
TABLES = (
    "community_member",
    "community_channel",
    "community_identity",
    "community_conversation",
    "community_interaction",
)
# The settings' init_command for SQLite, so the ceiling writes under the same conditions.
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=30000",
    "PRAGMA secure_delete=ON",
)


@dataclass
class ChildResult:
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    output: str


def _high_water_mb(pid: int) -> float | None:
    """The peak resident memory of a running process (VmHWM), MB; None once it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        return None
    return None


def run_child(args: list[str], env: dict[str, str]) -> ChildResult:
    """Run a command; return its wall time and its peak RSS."""
    started = time.perf_counter()
    # One merged pipe, read to its end before waiting: no deadlock on a chatty child.
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    # The child's own high-water mark, read while it runs: wait4's ru_maxrss can report the
    # parent's peak instead (Linux keeps it across fork and exec), which in a test process that
    # has loaded the analyzers is far above what the import itself used.
    peaks: list[float] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            mb = _high_water_mb(proc.pid)
            if mb is not None:
                peaks.append(mb)
            done.wait(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    output = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
    # wait4 rather than Popen.wait: it gives this child's own resource usage.
    _pid, status, usage = os.wait4(proc.pid, 0)
    done.set()
    watcher.join()
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.stdout:
        proc.stdout.close()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited with {proc.returncode}:\n{output}")
    # Linux reports ru_maxrss in kilobytes.
    cpu = usage.ru_utime + usage.ru_stime
    return ChildResult(seconds, cpu, max(peaks) if peaks else usage.ru_maxrss / 1024, output)


def child_env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    # The ceiling is SQLite's; an inherited DATABASE_URL would send the import elsewhere.
    env.pop("DATABASE_URL", None)
    env["TOWNSQUARE_DATA_DIR"] = str(data_dir)
    env.setdefault("TOWNSQUARE_SECRET_KEY", "benchmark-only-secret-key")
    return env


def townsquare(*args: str) -> list[str]:
    return [sys.executable, "-m", "townsquare.cli", *args]


def table_counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {
            t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]  # noqa: S608
            for t in TABLES
        }


def run_ceiling(source_db: Path, db: Path) -> tuple[int, float, float]:
    """Copy every row the import wrote into `db` with executemany, in one transaction.

    Rows are read from the import's database a chunk at a time, with the clock stopped, so
    only the inserts are timed and memory stays flat. Returns rows, wall and CPU seconds.
    """
    source = sqlite3.connect(source_db)
    conn = sqlite3.connect(db, isolation_level=None)
    rows = 0
    wall = cpu = 0.0
    try:
        for pragma in PRAGMAS:
            conn.execute(pragma)
        # The source row is not counted (the import's run rows are not either), but the rows
        # that refer to it need it.
        for table in ("community_source", *TABLES):
            cursor = source.execute(f"SELECT * FROM {table} ORDER BY id")  # noqa: S608
            columns = [d[0] for d in cursor.description]
            insert = (
                f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
                f"VALUES ({', '.join('?' * len(columns))})"
            )
            while chunk := cursor.fetchmany(CEILING_CHUNK):
                started, cpu_started = time.perf_counter(), time.process_time()
                if not conn.in_transaction:
                    conn.execute("BEGIN IMMEDIATE")
                conn.executemany(insert, chunk)
                wall += time.perf_counter() - started
                cpu += time.process_time() - cpu_started
                if table != "community_source":
                    rows += len(chunk)
        started, cpu_started = time.perf_counter(), time.process_time()
        conn.execute("COMMIT")
        wall += time.perf_counter() - started
        cpu += time.process_time() - cpu_started
        return rows, wall, cpu
    finally:
        conn.close()
        source.close()


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return {
        "cpu": cpu or platform.processor(),
        "cores": os.cpu_count(),
        "ram_gb": round(ram_gb, 1),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "system": platform.platform(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def bench(messages: int, out: Path, *, keep: bool = False, seed: int = SEED) -> dict[str, Any]:
    """Generate, import, measure the ceiling; return the figures (also written as JSON)."""
    out.mkdir(parents=True, exist_ok=True)
    export = out / f"slack-export-{messages}-{seed}"
    work = Path(tempfile.mkdtemp(prefix="slack-bench-", dir=out))
    try:
        started = time.perf_counter()
        summary_file = export.with_name(export.name + ".summary.json")
        if keep and export.is_dir() and summary_file.is_file():
            # A kept export of the same size and seed is the same export: generation is
            # deterministic, so tuning runs can skip it.
            summary = ExportSummary(**json.loads(summary_file.read_text()))
            generate_seconds = None
        else:
            shutil.rmtree(export, ignore_errors=True)
            summary = generate(export, messages, seed=seed)
            summary_file.write_text(json.dumps(summary.as_dict()))
            generate_seconds = round(time.perf_counter() - started, 2)

        import_dir = work / "import"
        import_dir.mkdir()
        env = child_env(import_dir)
        run_child(townsquare("migrate", "--no-input", "-v", "0"), env)
        db = import_dir / "townsquare.sqlite3"
        ceiling_db = work / "ceiling.sqlite3"
        # An empty migrated database: the same schema and indexes for the ceiling.
        shutil.copyfile(db, ceiling_db)
        wal = db.with_name(db.name + "-wal")
        if wal.exists():
            shutil.copyfile(wal, ceiling_db.with_name(ceiling_db.name + "-wal"))

        child = run_child(townsquare("import", "slack", str(export), "--no-progress"), env)
        counts = table_counts(db)
        rows = sum(counts.values())

        ceiling_rows, ceiling_seconds, ceiling_cpu = run_ceiling(db, ceiling_db)

        import_rate = rows / child.seconds
        ceiling_rate = ceiling_rows / ceiling_seconds
        result: dict[str, Any] = {
            "command": f"{Path(sys.executable).name} -m benchmarks.slack_import "
            f"--messages {messages}",
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "messages": messages,
            "export": {**summary.as_dict(), "generate_seconds": generate_seconds},
            "import": {
                "rows": rows,
                "counts": counts,
                "seconds": round(child.seconds, 2),
                "cpu_seconds": round(child.cpu_seconds, 2),
                "rows_per_s": round(import_rate),
                "messages_per_s": round(messages / child.seconds),
                "peak_rss_mb": round(child.peak_rss_mb, 1),
                # None: the settings' default.
                "batch_size": os.environ.get("TOWNSQUARE_IMPORT_BATCH_SIZE"),
                "output": child.output.strip(),
            },
            "ceiling": {
                "rows": ceiling_rows,
                "seconds": round(ceiling_seconds, 2),
                "cpu_seconds": round(ceiling_cpu, 2),
                "rows_per_s": round(ceiling_rate),
            },
            "ratio": round(import_rate / ceiling_rate, 3),
            # On a busy machine wall times stretch; the CPU-time ratio shows how much of a
            # missed target is contention rather than work.
            "cpu_ratio": round(ceiling_cpu / child.cpu_seconds, 3) if child.cpu_seconds else None,
            "targets": {"ratio_min": RATIO_TARGET, "peak_rss_mb_max": RSS_TARGET_MB},
        }
        result["targets_met"] = (
            result["ratio"] >= RATIO_TARGET and child.peak_rss_mb < RSS_TARGET_MB
        )
        (out / "slack_import.json").write_text(json.dumps(result, indent=2) + "\n")
        return result
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
            shutil.rmtree(export, ignore_errors=True)
            export.with_name(export.name + ".summary.json").unlink(missing_ok=True)


def table(result: dict[str, Any]) -> str:
    imp, ceil = result["import"], result["ceiling"]
    lines = [
        f"{'':<22}{'rows':>12}{'seconds':>10}{'CPU s':>9}{'rows/s':>10}{'peak RSS MB':>13}",
        f"{'townsquare import':<22}{imp['rows']:>12,}{imp['seconds']:>10.1f}"
        f"{imp['cpu_seconds']:>9.1f}{imp['rows_per_s']:>10,}{imp['peak_rss_mb']:>13.0f}",
        f"{'sqlite3 executemany':<22}{ceil['rows']:>12,}{ceil['seconds']:>10.1f}"
        f"{ceil['cpu_seconds']:>9.1f}{ceil['rows_per_s']:>10,}{'':>13}",
        "",
        f"ratio {result['ratio']:.1%} (target >= {RATIO_TARGET:.0%}; by CPU time "
        f"{result['cpu_ratio']:.1%}); peak RSS {imp['peak_rss_mb']:.0f} MB "
        f"(target < {RSS_TARGET_MB:.0f} MB); "
        f"targets {'met' if result['targets_met'] else 'NOT met'}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.slack_import", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--messages", type=int, default=DEFAULT_MESSAGES, help="messages")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument(
        "--keep", action="store_true", help="keep the generated export and the databases"
    )
    parser.add_argument("--seed", type=int, default=SEED, help="generator seed")
    args = parser.parse_args(argv)
    if args.messages < 1:
        parser.error("--messages must be at least 1")
    result = bench(args.messages, args.out, keep=args.keep, seed=args.seed)
    print(table(result))
    print(f"\nwritten to {args.out / 'slack_import.json'}")
    return 0 if result["targets_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
