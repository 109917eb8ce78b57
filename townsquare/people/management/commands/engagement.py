"""`townsquare engagement`: recompute every member's engagement level (docs/metrics.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from townsquare.community.engagement import refresh_engagement


class Command(BaseCommand):
    help = "Recompute every member's engagement score and level."

    def handle(self, *args: Any, **options: Any) -> None:
        totals = refresh_engagement()
        summary = ", ".join(f"{level} {n}" for level, n in sorted(totals.items())) or "no members"
        self.stdout.write(f"Engagement levels: {summary}.")
