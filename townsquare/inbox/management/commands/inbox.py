"""`townsquare inbox refresh`: recompute the inbox's conversation rollup (docs/metrics.md)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from townsquare.community.models import Conversation
from townsquare.inbox.models import ConversationState
from townsquare.inbox.rollup import refresh_states


class Command(BaseCommand):
    help = (
        "refresh: recompute every conversation's state (first message, first response, "
        "awaiting a reply); enrichment and merges keep it up to date, this rebuilds it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        refresh = actions.add_parser("refresh", help="recompute the conversation states")
        refresh.add_argument(
            "conversation_ids",
            nargs="*",
            type=int,
            metavar="CONVERSATION_ID",
            help="only these conversations (default: every one)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        wanted: list[int] = options["conversation_ids"]
        checked = len(set(wanted)) if wanted else Conversation.objects.count()
        written = refresh_states(wanted or None)
        awaiting = ConversationState.objects.filter(awaiting_reply=True).count()
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"Checked {_count(checked, 'conversation')} in {seconds:.1f} s: "
            f"{_count(written, 'state')} new or changed; {awaiting} await a reply."
        )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"
