from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from townsquare.connectors.base import Importer, ImportFormatError
from townsquare.connectors.registry import IMPORTERS, UnknownFormat
from townsquare.connectors.services import ImportConflict, do_import


def parse_pairs(values: list[str], flag: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise CommandError(f"{flag} {value!r}: expected KEY=VALUE")
        pairs[key.strip()] = rest
    return pairs


class Command(BaseCommand):
    help = "Import a platform export (file or folder) into a source."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("format", choices=sorted(IMPORTERS), help="the export's format")
        parser.add_argument("path", type=Path, help="the export file or folder")
        parser.add_argument("--source", help="the source to import into (default: from the path)")
        parser.add_argument(
            "--option",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="an importer option; repeatable",
        )
        parser.add_argument(
            "--mapping", help="CSV/JSONL: a JSON file mapping Townsquare fields to columns"
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="FIELD=COLUMN",
            help="CSV/JSONL: map one field to a column; repeatable",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **opts: Any) -> None:
        options = parse_pairs(opts["option"], "--option")
        if opts["mapping"]:
            options["mapping"] = opts["mapping"]
        options.update({f"map.{k}": v for k, v in parse_pairs(opts["map"], "--map").items()})
        bar: tqdm[Any] | None = None

        def on_start(importer: Importer) -> None:
            nonlocal bar
            if opts["no_progress"] or opts["verbosity"] == 0:
                return
            bar = tqdm(
                total=importer.progress.total,
                unit=importer.progress.unit,
                unit_scale=True,
                desc=f"import {opts['format']}",
                file=sys.stderr,
                leave=False,
            )
            importer.progress.listeners.append(bar.update)
            # The total is often known only once the importer has looked at the export.
            importer.progress.listeners.append(lambda _n: _sync_total(bar, importer))

        try:
            run = do_import(
                format=opts["format"],
                path=opts["path"],
                source_name=opts["source"],
                options=options,
                on_start=on_start,
            )
        except (ImportFormatError, UnknownFormat, ImportConflict) as e:
            raise CommandError(str(e), returncode=2) from None
        except KeyboardInterrupt:
            raise CommandError("interrupted; run the same import again to complete it") from None
        finally:
            if bar is not None:
                bar.close()
        created, updated = run.count("created"), run.count("updated")
        self.stdout.write(
            f"Import #{run.pk} into {run.source}: {run.records_seen} records read, "
            f"{created} created, {updated} updated, {run.count('unchanged')} unchanged, "
            f"{run.rejected_count} rejected."
        )
        if run.rejected_count:
            self.stdout.write(f"See the rejected records with: townsquare runs {run.pk}")


def _sync_total(bar: tqdm[Any], importer: Importer) -> None:
    if bar.total != importer.progress.total:
        bar.total = importer.progress.total
        bar.refresh()
