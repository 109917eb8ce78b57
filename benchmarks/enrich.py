"""`python -m benchmarks.enrich`: end-to-end enrichment throughput, and where the time goes.

Imports a realistic community into a fresh SQLite data directory (the demo generator's Slack,
Stack Exchange and mailing-list exports; or, with --slack-sample, the real Slack sample's
messages repeated), loads the analyzers' models once (timed apart: a worker pays it once), then
times `enrich_pending` over everything: reading, HTML stripping, every analyzer, the upserts,
thanks and term matches. The pipeline's overhead is the total minus the analyzers' own time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DEFAULT_MESSAGES = 20_000
DEFAULT_OUT = Path(__file__).resolve().parent / "out"
SLACK_SAMPLE = Path(__file__).resolve().parent.parent.parent / "shared/data/slack_houstondatavis"
TARGET_TEXTS_PER_SECOND = 2000.0
TARGET_OVERHEAD = 0.25


def _setup(data_dir: Path) -> None:
    os.environ["TOWNSQUARE_DATA_DIR"] = str(data_dir)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "townsquare.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    # The benchmark enriches by itself; imports must not queue (or run) it.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    call_command("migrate", verbosity=0, interactive=False)


def _import_demo(root: Path, messages: int) -> None:
    from townsquare.connectors.services import do_import
    from townsquare.demo.generator import generate_demo

    exports = generate_demo(root / "demo", members=max(200, messages // 25), interactions=messages)
    do_import(format="slack", path=exports.slack_dir, source_name="Slack")
    do_import(format="stackexchange", path=exports.stackexchange_dir, source_name="Q&A")
    do_import(format="mbox", path=exports.mbox_file, source_name="Mailing list")


def _import_slack_sample(root: Path, messages: int) -> None:
    from townsquare.connectors.services import do_import
    from townsquare.connectors.slack.tests.export import write_slack_export

    texts: list[tuple[str, str]] = []
    for day in sorted(SLACK_SAMPLE.glob("*/*.json")):
        for m in json.loads(day.read_text(encoding="utf-8")):
            if m.get("text") and m.get("user") and not m.get("subtype"):
                texts.append((m["user"], m["text"]))
    users = [{"id": u, "name": u.lower()} for u in sorted({u for u, _ in texts})]
    start = 1_700_000_000
    channel = [
        {
            "type": "message",
            "user": texts[i % len(texts)][0],
            "text": texts[i % len(texts)][1],
            "ts": f"{start + i}.{i % 1_000_000:06d}",
        }
        for i in range(messages)
    ]
    do_import(
        format="slack",
        path=write_slack_export(root / "slack", {"general": channel}, users),
        source_name="Slack",
    )


def _warm_up(texts: Any) -> float:
    """Load every analyzer's models on a sample of the texts; seconds taken. lingua loads
    each language's models on first need, so a sample of the real texts loads what the run
    will use: a long-running worker pays this once."""
    from townsquare.listening.pipeline import analyze_texts

    sample = [t for t in texts if t]
    started = time.perf_counter()
    analyze_texts(sample, [None] * len(sample))
    return time.perf_counter() - started


def run(messages: int, *, slack_sample: bool, out_dir: Path) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="enrich-bench-", dir=out_dir))
    try:
        _setup(work / "data")
        from townsquare.community.models import Interaction
        from townsquare.listening.pipeline import PARALLEL_FROM, enrich_pending, shutdown_workers

        t = time.perf_counter()
        if slack_sample:
            _import_slack_sample(work, messages)
        else:
            _import_demo(work, messages)
        import_seconds = time.perf_counter() - t
        interactions = Interaction.objects.count()
        warm_up = _warm_up(Interaction.objects.order_by("id").values_list("text", flat=True)[:3000])
        # One process first: each analyzer's own time and the pipeline's overhead, cleanly.
        stats = enrich_pending(workers=1)
        second = enrich_pending()
        # What a new analyzer version costs: everything re-enriched, in one process, where
        # most labels come out the same (the rollups and the inbox are recounted only for
        # the rows whose counted labels changed: none here).
        again = enrich_pending(rebuild=True, workers=1)
        # Then as `townsquare enrich` runs by default: the analyzers in one process per core
        # (their start-up and model loading included), reading and writing overlapped.
        cores = os.cpu_count() or 1
        # Start the analyzer processes and load their models, as a running worker already has.
        t = time.perf_counter()
        enrich_pending(rebuild=True, workers=cores, limit=PARALLEL_FROM)
        pool_start = time.perf_counter() - t
        parallel = enrich_pending(rebuild=True, workers=cores)
        shutdown_workers()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    analyzers_total = stats.analyzers_total
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "data": "slack sample repeated" if slack_sample else "demo community",
        "interactions": interactions,
        "import_seconds": round(import_seconds, 2),
        "model_load_seconds": round(warm_up, 2),
        "enrich": stats.as_dict(),
        "interactions_per_second": round(stats.interactions / stats.seconds, 1),
        "analyzer_texts_per_second": {
            name: round(stats.analyzed / seconds, 1) if seconds else None
            for name, seconds in stats.analyzer_seconds.items()
        },
        "overhead_share_of_analyzers": round(stats.overhead / analyzers_total, 3),
        "second_run": {"interactions": second.interactions, "seconds": round(second.seconds, 3)},
        "re_enrichment": {
            "seconds": round(again.seconds, 2),
            "overhead_seconds": round(again.overhead, 2),
            "overhead_share_of_analyzers": round(again.overhead / again.analyzers_total, 3),
        },
        "parallel": {
            "workers": cores,
            "start_and_first_5000_seconds": round(pool_start, 2),
            "seconds": round(parallel.seconds, 2),
            "texts_per_second": round(parallel.texts_per_second, 1),
            "interactions_per_second": round(parallel.interactions / parallel.seconds, 1),
        },
        "targets": {
            "texts_per_second": TARGET_TEXTS_PER_SECOND,
            "overhead_share_of_analyzers": TARGET_OVERHEAD,
        },
    }


def print_table(result: dict[str, Any]) -> None:
    enrich = result["enrich"]
    total = enrich["seconds"]
    print(
        f"{result['data']}: {result['interactions']:,} interactions, "
        f"{enrich['analyzed']:,} texts analyzed (models loaded in {result['model_load_seconds']} s)"
    )
    print(f"{'stage':<22}{'seconds':>10}{'share':>8}{'texts/s':>12}")
    for name, seconds in enrich["analyzer_seconds"].items():
        rate = result["analyzer_texts_per_second"][name]
        print(f"{name:<22}{seconds:>10.2f}{seconds / total:>8.1%}{rate or 0:>12,.0f}")
    overhead = enrich["overhead_seconds"]
    print(f"{'pipeline overhead':<22}{overhead:>10.2f}{overhead / total:>8.1%}")
    stages = enrich["stage_seconds"]
    # What the analyzers' glue and the loop itself took: the overhead not in a stage.
    rest = overhead - sum(stages.values())
    for name, seconds in [*stages.items(), ("other", rest)]:
        print(f"{'  ' + name:<22}{seconds:>10.2f}{seconds / total:>8.1%}")
    print(
        f"{'end to end':<22}{total:>10.2f}{1:>8.0%}{enrich['texts_per_second']:>12,.0f}"
        f"  (target >= {TARGET_TEXTS_PER_SECOND:,.0f})"
    )
    par = result["parallel"]
    print(
        f"{'end to end, ' + str(par['workers']) + ' procs':<22}{par['seconds']:>10.2f}{'':>8}"
        f"{par['texts_per_second']:>12,.0f}  (processes started and models loaded before)"
    )
    again = result["re_enrichment"]
    print(
        f"re-enrichment of everything (a new analyzer version), one process: "
        f"{again['seconds']} s, overhead {again['overhead_seconds']} s = "
        f"{again['overhead_share_of_analyzers']:.1%} of the analyzers' time"
    )
    print(
        f"overhead / analyzers: {result['overhead_share_of_analyzers']:.1%} "
        f"(target <= {TARGET_OVERHEAD:.0%}); second run: "
        f"{result['second_run']['interactions']} interactions in "
        f"{result['second_run']['seconds']} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=DEFAULT_MESSAGES)
    parser.add_argument(
        "--slack-sample", action="store_true", help="the real Slack sample's texts, repeated"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    result = run(args.messages, slack_sample=args.slack_sample, out_dir=args.out)
    print_table(result)
    (args.out / "enrich.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    ok = (
        result["parallel"]["texts_per_second"] >= TARGET_TEXTS_PER_SECOND
        and result["overhead_share_of_analyzers"] <= TARGET_OVERHEAD
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
