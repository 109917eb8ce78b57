"""`python -m benchmarks.reports_pages`: server time of every chart of the Reports page over
12 months, on 100,000 members and 2,000,000 interactions, on SQLite or on PostgreSQL.

It starts from a copy of the member pages' dataset (benchmarks/members_pages.py builds it the
first time), builds the inbox's conversation rollup as an installation's worker would (time to
first response and unanswered conversations read it), then requests each chart block as the
page's htmx does: the last 12 months of the data, for the whole community, then for one
channel. Results go to benchmarks/out/reports-pages-{sqlite,postgresql}.json.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks import members_pages as base
from benchmarks.work_pages import _timed, copy_parser, open_copy

DEFAULT_DATA_DIR = Path(tempfile.gettempdir()) / "townsquare-reports-bench"
TARGET_MS = 1000.0


def pages() -> list[base.Page]:
    from django.db.models import Count, Max
    from django.urls import reverse

    from townsquare.community.models import Interaction
    from townsquare.reports.data import CHARTS

    last = Interaction.objects.aggregate(last=Max("created_at"))["last"]
    until = last.date()
    since = until - timedelta(days=365)
    busiest = (
        Interaction.objects.filter(channel__isnull=False)
        .values("channel", "channel__source")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    assert busiest is not None
    whole = {"range": "custom", "since": since.isoformat(), "until": until.isoformat()}
    one_channel = {
        **whole,
        "source": str(busiest["channel__source"]),
        "channel": str(busiest["channel"]),
    }
    found = []
    for scope, params in (("12 months", whole), ("12 months, busiest channel", one_channel)):
        for slug in CHARTS:
            url = reverse("report_chart", args=[slug])
            found.append(base.Page(scope, slug, url, params, htmx_target=f"chart-{slug}"))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = copy_parser(__doc__, DEFAULT_DATA_DIR)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--warm-up", type=int, default=1)
    parser.add_argument("--out", type=Path, default=base.DEFAULT_OUT)
    args = parser.parse_args(argv)
    engine = open_copy(args)
    from townsquare.inbox.rollup import refresh_states

    _, rollup_seconds = _timed("conversation rollup, whole history", refresh_states)
    if args.database_url:
        from django.db import connection

        # What autovacuum does after the migrations filled the rollups and the inbox's states:
        # statistics, and the visibility map that index-only scans need.
        with connection.cursor() as cursor:
            _timed("vacuum analyze", lambda: cursor.execute("VACUUM ANALYZE"))
    results = [base.measure(page, args.repeat, args.warm_up) for page in pages()]
    print(f"\n{engine}: server time per chart, ms (target < {TARGET_MS:.0f} ms median)")
    print(f"{'scope':<28}{'chart':<18}{'median':>9}{'p95':>9}{'cpu':>9}{'queries':>9}")
    over = 0
    for m in results:
        flag = "" if m.median_ms < TARGET_MS else "  over"
        over += bool(flag)
        print(
            f"{m.page.group:<28}{m.page.label:<18}{m.median_ms:>9.1f}{m.p95_ms:>9.1f}"
            f"{m.cpu_ms:>9.1f}{m.queries:>9}{flag}"
        )
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
        "rollup_seconds": round(rollup_seconds, 1),
        "charts": [m.as_dict() for m in results],
    }
    (args.out / f"reports-pages-{name}.json").write_text(json.dumps(report, indent=1))
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
