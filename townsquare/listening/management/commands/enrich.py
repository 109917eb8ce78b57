"""`townsquare enrich`: run the analyzers over every interaction not enriched yet."""

from __future__ import annotations

import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from townsquare.lib.tasks import backend_kind
from townsquare.listening.pipeline import enrich_pending
from townsquare.listening.tasks import enrich_pending_task


class Command(BaseCommand):
    help = (
        "Enrich the interactions with words (language, sentiment, questions, thanks, emotion, "
        "toxicity, spam, keywords): those never enriched, edited since, or enriched by an older "
        "analyzer. Reactions, joins and votes have nothing to analyse and are left alone."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help="re-enrich every interaction with words, not only stale",
        )
        parser.add_argument(
            "--background",
            action="store_true",
            help="queue the work for `townsquare worker` instead of doing it now",
        )
        parser.add_argument("--limit", type=int, help="stop after this many interactions")
        parser.add_argument(
            "--workers",
            type=int,
            default=os.cpu_count() or 1,
            help="processes running the analyzers on a big run (default: one per core)",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **opts: Any) -> None:
        limit: int | None = opts["limit"]
        if limit is not None and limit < 1:
            raise CommandError("--limit: expected a number of at least 1")
        if opts["workers"] < 1:
            raise CommandError("--workers: expected a number of at least 1")
        if opts["background"]:
            result = enrich_pending_task.enqueue(rebuild=opts["rebuild"], limit=limit)
            kind = backend_kind()
            if kind == "immediate":
                self.stdout.write(f"Enrichment ran at once (immediate backend): {result.status}.")
            else:
                self.stdout.write(
                    f"Enrichment queued as task {result.id} on the {kind} backend; "
                    "`townsquare worker` runs it."
                )
            return

        bar: tqdm[Any] | None = None

        def progress(done: int, total: int) -> None:
            nonlocal bar
            if bar is None:
                bar = tqdm(total=total, unit="msg", unit_scale=True, desc="enrich", file=sys.stderr)
            bar.update(done)

        show = not opts["no_progress"] and opts["verbosity"] > 0
        try:
            stats = enrich_pending(
                rebuild=opts["rebuild"],
                limit=limit,
                progress=progress if show else None,
                workers=opts["workers"],
            )
        except FileNotFoundError as e:
            # A shipped model is missing (a source checkout before `make models`).
            raise CommandError(str(e)) from None
        finally:
            if bar is not None:
                bar.close()
        self.stdout.write(
            f"Enriched {stats.interactions} interactions ({stats.analyzed} texts analyzed) "
            f"in {stats.seconds:.1f} s: {stats.texts_per_second:,.0f} texts/s."
        )
