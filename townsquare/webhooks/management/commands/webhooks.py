"""`townsquare webhooks send-due`: send the webhook deliveries whose next attempt is due;
`townsquare webhooks prune`: delete finished deliveries past the log's keeping time."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from townsquare.webhooks.sending import prune_log, send_due


class Command(BaseCommand):
    help = "Outbound webhooks (the worker sends them; this is for operators and cron)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        due = actions.add_parser(
            "send-due", help="send every pending delivery whose next attempt is due"
        )
        due.add_argument("--json", action="store_true", help="print the figures as JSON")
        actions.add_parser(
            "prune",
            help="delete delivered and failed deliveries older than TOWNSQUARE_WEBHOOK_LOG_DAYS",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "prune":
            self.stdout.write(f"{prune_log()} finished deliveries deleted from the log.")
            return
        stats = send_due()
        if opts["json"]:
            self.stdout.write(json.dumps(stats.as_dict(), sort_keys=True))
            return
        self.stdout.write(
            f"{stats.delivered} delivered, {stats.retrying} to retry later, "
            f"{stats.failed} failed for good."
        )
