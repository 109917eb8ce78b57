"""`townsquare care refresh`: run the care rules now and rank the queue."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from townsquare.care.models import CareItem, Status
from townsquare.care.queue import refresh_queue


class Command(BaseCommand):
    help = "Run the care queue's rules now (they also run after each import and on a schedule)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        refresh = actions.add_parser("refresh", help="find who needs a touch and rank the queue")
        refresh.add_argument("--json", action="store_true", help="print the figures as JSON")

    def handle(self, *args: Any, **opts: Any) -> None:
        stats = refresh_queue()
        if opts["json"]:
            self.stdout.write(json.dumps(stats.as_dict(), sort_keys=True))
            return
        open_items = CareItem.objects.filter(status=Status.OPEN).count()
        self.stdout.write(
            f"{stats.new_reasons} new reason(s) on {stats.new_items} new item(s); "
            f"{stats.cleared_reasons} reason(s) went away, {stats.expired_items} item(s) no "
            f"longer needed, {stats.woken_items} woken from snooze. {open_items} open item(s)."
        )
        for rule, found in sorted(stats.by_rule.items()):
            self.stdout.write(f"  {rule}: {found} candidate(s)")
