"""`townsquare scheduler`: queue the periodic tasks (care queue refresh, spike check)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from townsquare.lib.schedule import default_jobs, run_due, run_forever


class Command(BaseCommand):
    help = (
        "Queue periodic tasks for the worker: the care queue's refresh every 10 minutes and the "
        "spike check every hour. Run one per installation (`townsquare serve` starts one)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="queue every job once and exit")

    def handle(self, *args: Any, **opts: Any) -> None:
        jobs = default_jobs()
        if opts["once"]:
            for name in run_due(jobs, time.monotonic()):
                self.stdout.write(f"queued {name}")
            return
        run_forever(jobs)
