from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from townsquare.connectors.models import ImportRun
from townsquare.connectors.services import mark_interrupted_runs


class Command(BaseCommand):
    help = "List import runs with their counts and errors, or show one run in detail."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("run_id", nargs="?", type=int, help="show this run in detail")
        parser.add_argument("--limit", type=int, default=20)

    def handle(self, *args: Any, **opts: Any) -> None:
        mark_interrupted_runs()
        if opts["run_id"] is None:
            runs = ImportRun.objects.select_related("source")[: opts["limit"]]
            if not runs:
                self.stdout.write("No imports yet. Start one with: townsquare import FORMAT PATH")
            for run in runs:
                self.stdout.write(self._line(run))
            return
        try:
            run = ImportRun.objects.select_related("source").get(pk=opts["run_id"])
        except ImportRun.DoesNotExist:
            raise CommandError(f"no import run #{opts['run_id']}", returncode=2) from None
        self.stdout.write(self._line(run))
        self.stdout.write(f"  path: {run.path}")
        for outcome in ("created", "updated", "unchanged"):
            kinds = run.counts.get(outcome) or {}
            if kinds:
                detail = ", ".join(f"{k} {v}" for k, v in kinds.items())
                self.stdout.write(f"  {outcome}: {detail}")
        if run.error:
            self.stdout.write(f"  error: {run.error}")
        for rejected in run.rejected.all()[:100]:
            self.stdout.write(f"  rejected {rejected.location}: {rejected.reason}")
        if run.rejected_count > 100:
            self.stdout.write(f"  ... and {run.rejected_count - 100} more rejected records")

    @staticmethod
    def _line(run: ImportRun) -> str:
        duration = f"{run.duration.total_seconds():.1f}s" if run.duration else "-"
        return (
            f"#{run.pk} {run.started_at:%Y-%m-%d %H:%M} {run.format} into {run.source} "
            f"{run.status} {duration}: {run.records_seen} records, "
            f"{run.count('created')} created, {run.count('updated')} updated, "
            f"{run.rejected_count} rejected" + (f" - {run.error}" if run.error else "")
        )
