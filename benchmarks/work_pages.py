"""`python -m benchmarks.work_pages`: the manager's daily pages (Today, the care queue, a care
item, the inbox) on 100,000 members and 2,000,000 interactions, and how soon the care queue is
up to date after an import of 10,000 new messages, on SQLite or on PostgreSQL.

It starts from a copy of the member pages' dataset (benchmarks/members_pages.py builds it the
first time; `--reuse` there and here keeps it), so the member benchmark's own data stays
untouched. Then, as an installation's worker would:

1. builds the inbox's conversation rollup and the moderation queue for the whole history, and
   runs the care rules once (timed: the first refresh of an upgraded installation);
2. measures the pages with the member benchmark's client (server time, median and p95);
3. writes a Slack export of 10,000 new messages from existing members' threads, imports it
   with the real importer, then times the worker's path: enrichment (with the rollup and the
   moderation flags of each batch) and the care queue's refresh — "up to date" is when that
   refresh returns.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import members_pages as base

DEFAULT_DATA_DIR = Path(tempfile.gettempdir()) / "townsquare-work-bench"
TARGET_MS = 200.0
NEW_MESSAGES = 10_000
TEXTS = [
    "Thanks, that fixed it for me!",
    "Is there a way to export the dashboard as PDF?",
    "I still get the same error after upgrading, any idea why?",
    "Great talk yesterday, the slides are really helpful",
    "This is so frustrating, the build broke again and nothing works",
    "Bonjour, je ne trouve pas comment changer la langue de l'interface",
    "Has anyone tried the new plugin with PostgreSQL 16?",
    "You can set it in the config file under [server], then restart",
    "I love how simple the new onboarding is",
    "Why does the sync take hours on large channels?",
]


def _clone(source_url: str | None, target_url: str | None, data_dir: Path) -> None:
    """Copy the member benchmark's database: a SQLite file, or a PostgreSQL template."""
    if target_url:
        import psycopg
        from psycopg import sql

        source, admin = base._pg_admin(source_url or "")
        target, _ = base._pg_admin(target_url)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target))
            )
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(target), sql.Identifier(source)
                )
            )
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        origin = base.DEFAULT_DATA_DIR / f"townsquare.sqlite3{suffix}"
        copy = data_dir / f"townsquare.sqlite3{suffix}"
        copy.unlink(missing_ok=True)
        if origin.exists():
            shutil.copyfile(origin, copy)


def copy_parser(doc: str | None, data_dir: Path) -> argparse.ArgumentParser:
    """The options of a benchmark that works on a copy of the member pages' dataset."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parser.add_argument(
        "--source-database-url", default=None, help="the member benchmark's PostgreSQL database"
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="this benchmark's own PostgreSQL database (dropped and copied)",
    )
    parser.add_argument("--data-dir", type=Path, default=data_dir)
    return parser


def open_copy(args: argparse.Namespace) -> str:
    """Copy the member pages' dataset, point Django at the copy and migrate it, as an
    installation would be; the engine's name."""
    if bool(args.database_url) != bool(args.source_database_url):
        raise SystemExit("give both --database-url and --source-database-url, or neither")
    _clone(args.source_database_url, args.database_url, args.data_dir)
    base._setup(args.database_url, args.data_dir)
    engine = base._engine(args.database_url)
    if not base._present(base.DEFAULT_MEMBERS, base.DEFAULT_INTERACTIONS):
        raise SystemExit(
            "the member benchmark's dataset is missing: run `python -m benchmarks.members_pages` "
            "first (with the same --database-url as --source-database-url here)"
        )
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    print(f"{engine}: {base.DEFAULT_MEMBERS:,} members, {base.DEFAULT_INTERACTIONS:,} interactions")
    return engine


def _timed(label: str, work: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - started
    print(f"{label}: {seconds:.2f} s", flush=True)
    return result, seconds


def prepare() -> dict[str, float]:
    """The worker's catch-up on a history it never saw: rollup, moderation queue, care rules."""
    from django.db import connection

    from townsquare.care.queue import refresh_queue
    from townsquare.community.models import Interaction
    from townsquare.inbox.rollup import refresh_states
    from townsquare.listening.pipeline import count_stale
    from townsquare.moderation.services import flag_interactions

    seconds: dict[str, float] = {}
    # Datasets built before the generator wrote each enrichment's digest look stale
    # everywhere: give them the digest their interaction has, as the pipeline would have.
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM listening_enrichment WHERE content_hash = ''")
        if cursor.fetchone()[0]:
            _timed(
                "digests of an older dataset",
                lambda: cursor.execute(
                    "UPDATE listening_enrichment SET content_hash = (SELECT content_hash FROM"
                    " community_interaction i WHERE i.id = listening_enrichment.interaction_id)"
                    " WHERE content_hash = ''"
                ),
            )
    stale, seconds["count_stale"] = _timed("stale interactions (before the import)", count_stale)
    print(f"  {stale:,} stale")
    _, seconds["rollup_all"] = _timed("conversation rollup, whole history", refresh_states)
    flagged = list(
        Interaction.objects.filter(enrichment__is_toxic=True).values_list("id", flat=True)[:5000]
    )
    _, seconds["moderation_flags"] = _timed(
        f"moderation queue ({len(flagged):,} flagged)", lambda: flag_interactions(flagged)
    )
    stats, seconds["care_first_refresh"] = _timed("care rules, first refresh", refresh_queue)
    print(f"  {json.dumps(stats.as_dict(), sort_keys=True)}")
    stats, seconds["care_refresh_again"] = _timed("care rules, next refresh", refresh_queue)
    print(f"  seconds by rule {json.dumps(stats.seconds_by_rule, sort_keys=True)}")
    return seconds


def pages() -> list[base.Page]:
    from django.urls import reverse

    from townsquare.care.models import CareItem, Status
    from townsquare.inbox.models import ConversationState

    top = CareItem.objects.filter(status=Status.OPEN).order_by("-priority", "id").first()
    waiting = ConversationState.objects.filter(awaiting_reply=True).order_by("opened_at").first()
    found = [
        base.Page("today", "Today", reverse("home"), {}),
        base.Page("care", "care queue", reverse("care"), {}),
        base.Page("care", "care queue, unanswered only", reverse("care"), {"rule": "unanswered"}),
        base.Page(
            "care", "care queue, page 3 (htmx)", reverse("care"), {"page": "3"}, "care-results"
        ),
        base.Page("inbox", "inbox", reverse("inbox"), {}),
        base.Page(
            "inbox",
            "inbox, questions over 24 h",
            reverse("inbox"),
            {"question": "on", "age": "24h"},
        ),
    ]
    if top is not None:
        found.insert(
            4, base.Page("care", "care item (top)", reverse("care_item", args=[top.pk]), {})
        )
    if waiting is not None:
        found.append(
            base.Page(
                "inbox",
                "inbox conversation",
                reverse("inbox_conversation", args=[waiting.conversation_id]),
                {},
            )
        )
    return found


def write_new_messages(root: Path, n: int, seed: int, hours_ago: float = 6.0) -> Path:
    """A Slack export of n new messages in the last hours: new threads and replies by members
    who already have a Slack identity, so the import adds activity to known people."""
    from townsquare.community.models import Identity
    from townsquare.connectors.slack.tests.export import write_slack_export

    rng = random.Random(seed)
    people = list(
        Identity.objects.filter(source__platform="slack").values_list("external_id", "handle")[
            :2000
        ]
    )
    users = [
        {"id": ext, "name": handle or ext, "profile": {"real_name": handle}}
        for ext, handle in people
    ]
    now = datetime.now(UTC)
    channels: dict[str, list[dict[str, Any]]] = {f"import-{c}": [] for c in range(10)}
    roots: dict[str, list[str]] = {name: [] for name in channels}
    for i in range(n):
        name = f"import-{i % 10}"
        when = now - timedelta(hours=hours_ago) + timedelta(seconds=i * 2)
        message: dict[str, Any] = {
            "type": "message",
            "user": rng.choice(users)["id"],
            "text": rng.choice(TEXTS),
            "ts": f"{when.timestamp():.6f}",
        }
        if roots[name] and rng.random() < 0.6:
            message["thread_ts"] = rng.choice(roots[name][-50:])
        else:
            roots[name].append(message["ts"])
        channels[name].append(message)
    return write_slack_export(root, channels, users)


def import_and_catch_up(export: Path) -> dict[str, float]:
    from townsquare.care.queue import AFTER_NEW_MESSAGES, refresh_queue
    from townsquare.lib.testing import import_export
    from townsquare.listening.pipeline import enrich_pending

    seconds: dict[str, float] = {}
    run, seconds["import"] = _timed(
        f"import of {NEW_MESSAGES:,} messages",
        lambda: import_export("slack", export, source="bench import"),
    )
    started = time.perf_counter()
    # As the task the import queued: only what the run wrote.
    _, seconds["enrichment"] = _timed(
        "enrichment, with the rollup and moderation flags of each batch",
        lambda: enrich_pending(workers=os.cpu_count() or 1, since=run.started_at),
    )
    # As the enrichment task does next: the rules new messages can file on.
    stats, seconds["care_refresh"] = _timed(
        "care queue refresh", lambda: refresh_queue(rules=AFTER_NEW_MESSAGES)
    )
    seconds["up_to_date_after_import"] = time.perf_counter() - started
    print(f"  new reasons {stats.new_reasons}, new items {stats.new_items}")
    print(f"  seconds by rule {json.dumps(stats.seconds_by_rule, sort_keys=True)}")
    print(
        f"care queue up to date {seconds['up_to_date_after_import']:.2f} s after the import ended"
    )
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = copy_parser(__doc__, DEFAULT_DATA_DIR)
    parser.add_argument("--repeat", type=int, default=base.REPEAT)
    parser.add_argument("--warm-up", type=int, default=base.WARM_UP)
    parser.add_argument("--seed", type=int, default=base.DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=base.DEFAULT_OUT)
    parser.add_argument(
        "--catch-up-only",
        action="store_true",
        help="time the two imports' catch-up on the copy a previous run prepared (no new copy,"
        " no pages; each run adds 20,000 messages to it)",
    )
    args = parser.parse_args(argv)
    if args.catch_up_only:
        base._setup(args.database_url, args.data_dir)
        engine = base._engine(args.database_url)
        seconds: dict[str, float] = {}
        results = []
    else:
        engine = open_copy(args)
        seconds = prepare()
        results = [base.measure(page, args.repeat, args.warm_up) for page in pages()]
    print(f"\n{engine}: server time per page, ms (target < {TARGET_MS:.0f} ms median)")
    print(f"{'page':<44}{'median':>8}{'p95':>8}{'min':>8}{'cpu':>8}{'queries':>9}")
    for m in results:
        flag = "" if m.median_ms < TARGET_MS else "  over"
        print(
            f"{m.page.label:<44}{m.median_ms:>8.1f}{m.p95_ms:>8.1f}{m.min_ms:>8.1f}"
            f"{m.cpu_ms:>8.1f}{m.queries:>9}{flag}"
        )
    # `townsquare worker` starts its analyzer processes and loads their models as it starts
    # (pipeline.warm_up), so even the first import finds them running.
    from townsquare.listening.pipeline import warm_up

    _, seconds["worker_warm_up"] = _timed(
        "worker start: analyzer processes and models", lambda: warm_up(os.cpu_count() or 1)
    )
    with tempfile.TemporaryDirectory() as folder:
        export = write_new_messages(Path(folder) / "export", NEW_MESSAGES, args.seed)
        print("-- the worker's first import since it started")
        seconds.update(import_and_catch_up(export))
    with tempfile.TemporaryDirectory() as folder:
        export = write_new_messages(Path(folder) / "next", NEW_MESSAGES, args.seed + 1, 3.0)
        print("-- its next import")
        seconds.update({f"next_{k}": v for k, v in import_and_catch_up(export).items()})
    if args.catch_up_only:
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    name = "postgresql" if args.database_url else "sqlite"
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "engine": engine,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average": os.getloadavg(),
        },
        "pages": [m.as_dict() for m in results],
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
    }
    (args.out / f"work-pages-{name}.json").write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
