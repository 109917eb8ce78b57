from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from townsquare.community.models import Source
from townsquare.community.resolution import resolve


class Command(BaseCommand):
    help = (
        "Find members who may be one person across platforms and suggest merging them "
        "(see them at /members/merges/). With --auto, merge those a verified email proves "
        "to be one person."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--auto", action="store_true", help="merge the certain ones (same verified email)"
        )
        parser.add_argument("--source", help="only members with an identity on this source")

    def handle(self, *args: Any, **opts: Any) -> None:
        source = None
        if opts["source"]:
            source = Source.objects.filter(name=opts["source"]).first()
            if source is None:
                raise CommandError(f"No source named {opts['source']!r}.")
        started = time.monotonic()
        result = resolve(source=source, auto=opts["auto"])
        took = time.monotonic() - started
        if result.merged:
            self.stdout.write(f"Merged {result.merged} members with the same verified email.")
        self.stdout.write(
            f"{result.suggestions} open suggestions ({result.created} new) "
            f"in {took:.1f}s. Review them at /members/merges/."
        )
        if result.certain_pairs and not opts["auto"]:
            self.stdout.write(
                f"{len(result.certain_pairs)} of them are certain (same verified email): "
                "run `townsquare resolve --auto` to merge them."
            )
