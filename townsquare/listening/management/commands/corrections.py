"""`townsquare corrections export ANALYZER`: people's corrected labels, as training data."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from townsquare.listening.services import EXPORT_FIELDS, export_corrections


class Command(BaseCommand):
    help = "Work with the labels people corrected."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        export = actions.add_parser(
            "export",
            help="write `text,label` CSV of an analyzer's corrected labels (for --corrections "
            "of the training module)",
        )
        export.add_argument("analyzer", choices=sorted(EXPORT_FIELDS))
        export.add_argument("--out", type=Path, help="file to write (default: standard output)")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] != "export":
            raise CommandError(f"unknown action {opts['action']!r}")
        out: Path | None = opts["out"]
        if out is None:
            count = export_corrections(opts["analyzer"], self.stdout)
        else:
            try:
                with out.open("w", encoding="utf-8", newline="") as f:
                    count = export_corrections(opts["analyzer"], f)
            except OSError as e:
                raise CommandError(f"{out}: cannot write ({e.strerror})") from None
        sys.stderr.write(f"{count} corrected {opts['analyzer']} labels exported.\n")
