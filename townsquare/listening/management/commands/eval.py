from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from townsquare.listening import evaluation
from townsquare.listening.analyzers.registry import ANALYZERS, get_analyzer
from townsquare.listening.evaluation import GoldSet, GoldSetError

FIGURE_ORDER = (
    "n",
    "pearson_r",
    "accuracy",
    "macro_recall",
    "macro_f1",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "unsupported",
    "unknown",
)


class Command(BaseCommand):
    help = (
        "Measure an analyzer against a labelled gold set and print the standard figures: "
        "Pearson r (vader), accuracy / macro recall / macro F1 (classes), precision / recall / "
        "F1 / ROC AUC and macro F1 over both classes (binary)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("analyzer", choices=sorted(ANALYZERS))
        parser.add_argument("--gold", required=True, type=Path, help="file or folder")
        parser.add_argument("--format", required=True, choices=evaluation.FORMATS, dest="fmt")
        parser.add_argument("--split", default="test", help="tweeteval split (default: test)")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--text-column", default="text", help="csv: column of the text")
        parser.add_argument("--label-column", default="label", help="csv: column of the label")
        parser.add_argument(
            "--languages",
            help="lingua: comma-separated ISO 639-1 codes (default: the configured languages)",
        )
        parser.add_argument("--limit", type=int, help="evaluate only the first N items")

    def handle(self, *args: Any, **opts: Any) -> None:
        name: str = opts["analyzer"]
        try:
            analyzer = get_analyzer(name)
            gold = self._read(name, opts)
            started = time.perf_counter()
            figures = evaluation.evaluate(analyzer, gold, opts["fmt"])
            elapsed = time.perf_counter() - started
        except GoldSetError as e:
            raise CommandError(str(e), returncode=2) from None
        except (ImportError, ValueError) as e:
            raise CommandError(f"{name}: {e}", returncode=2) from None
        if opts["json"]:
            out = {"analyzer": name, "format": opts["fmt"], **figures}
            # JSON has no NaN: an undefined figure (ROC AUC with one class) is null.
            clean = {k: (None if evaluation.is_nan(v) else v) for k, v in out.items()}
            self.stdout.write(json.dumps(clean))
            return
        self.stdout.write(f"{name} on {opts['gold']} ({opts['fmt']}), {elapsed:.1f}s")
        for key in FIGURE_ORDER:
            if key in figures:
                value = figures[key]
                shown = f"{value:.4f}" if isinstance(value, float) else str(value)
                self.stdout.write(f"  {key:<13}{shown}")

    @staticmethod
    def _read(name: str, opts: dict[str, Any]) -> GoldSet:
        path: Path = opts["gold"]
        fmt: str = opts["fmt"]
        if not path.exists():
            raise GoldSetError(f"{path}: no such file or folder")
        if fmt == "vader":
            gold = evaluation.read_vader(path)
        elif fmt == "tweeteval":
            gold = evaluation.read_tweeteval(path, opts["split"])
        elif fmt == "csv":
            gold = evaluation.read_csv(path, opts["text_column"], opts["label_column"])
        else:
            languages = _languages(opts.get("languages"))
            # Round-robin so that --limit keeps every language.
            return evaluation.interleaved(evaluation.read_lingua(path, languages), opts["limit"])
        return gold.limited(opts["limit"])


def _languages(option: str | None) -> list[str]:
    if option:
        return [code.strip().lower() for code in option.split(",") if code.strip()]
    from townsquare.listening.analyzers.language import configured_languages

    return list(configured_languages())
