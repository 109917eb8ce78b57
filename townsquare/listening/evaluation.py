"""Gold-set readers and the standard figures for `townsquare eval`.

Readers turn a published labelled set into `GoldSet` (texts and labels); `evaluate` runs one
analyzer over it and computes the figures that apply. A reader raises `GoldSetError` with a one-line
message naming the file and what was expected, for the command to print without a traceback.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from townsquare.listening.analyzers.base import Analyzer, TextItem

FORMATS = ("vader", "tweeteval", "lingua", "csv")
BINARY_ANALYZERS = {"spam": "flag", "toxicity": "flag", "question": "is_question"}
BATCH = 2000


class GoldSetError(Exception):
    """A gold set that cannot be read: missing file, wrong layout, unknown column."""


@dataclass
class GoldSet:
    """Texts with their gold labels: floats (vader), ints or class names."""

    texts: list[str]
    labels: list[Any]
    # class index -> name, from a tweeteval mapping.txt
    mapping: dict[int, str] = field(default_factory=dict)

    def limited(self, limit: int | None) -> GoldSet:
        if not limit:
            return self
        return GoldSet(self.texts[:limit], self.labels[:limit], self.mapping)


def _read_lines(path: Path) -> list[str]:
    if not path.is_file():
        raise GoldSetError(f"{path}: file not found")
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as e:
        raise GoldSetError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None


def read_vader(path: Path) -> GoldSet:
    """id<TAB>mean rating<TAB>text (the anonDataRatings layout adds stdev and a ratings list)."""
    texts: list[str] = []
    labels: list[float] = []
    for number, line in enumerate(_read_lines(path), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) < 3:
            raise GoldSetError(
                f"{path}, line {number}: expected id<TAB>mean rating<TAB>text, "
                f"found {len(parts)} column(s)"
            )
        try:
            labels.append(float(parts[1]))
        except ValueError:
            raise GoldSetError(
                f"{path}, line {number}: expected a number as mean rating, found {parts[1]!r}"
            ) from None
        texts.append(parts[-1])
    if not texts:
        raise GoldSetError(f"{path}: no rows (expected id<TAB>mean rating<TAB>text)")
    return GoldSet(texts, labels)


def read_tweeteval(path: Path, split: str = "test") -> GoldSet:
    """A folder with {split}_text.txt, {split}_labels.txt and mapping.txt."""
    if not path.is_dir():
        raise GoldSetError(
            f"{path}: expected a folder with {split}_text.txt, {split}_labels.txt, mapping.txt"
        )
    if not (path / f"{split}_text.txt").is_file():
        found = sorted(p.name.removesuffix("_text.txt") for p in path.glob("*_text.txt"))
        raise GoldSetError(
            f"{path / f'{split}_text.txt'}: file not found; "
            f"splits here: {', '.join(found) or 'none'} (choose one with --split)"
        )
    texts = _read_lines(path / f"{split}_text.txt")
    labels_file = path / f"{split}_labels.txt"
    # (line number, label) of the non-blank lines, so that a bad label is named by its line
    lines = enumerate(_read_lines(labels_file), 1)
    raw = [(number, line.strip()) for number, line in lines if line.strip()]
    mapping: dict[int, str] = {}
    for line in _read_lines(path / "mapping.txt"):
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0].strip().isdigit():
            mapping[int(parts[0])] = parts[1].strip()
    texts = texts[: len(raw)] if len(texts) > len(raw) and not any(texts[len(raw) :]) else texts
    if len(texts) != len(raw):
        raise GoldSetError(
            f"{path}: {split}_text.txt has {len(texts)} lines but {split}_labels.txt has {len(raw)}"
        )
    labels: list[int] = []
    for number, value in raw:
        try:
            labels.append(int(value))
        except ValueError:
            raise GoldSetError(
                f"{labels_file}, line {number}: expected an integer label, found {value!r}"
            ) from None
    return GoldSet(texts, labels, mapping)


def read_lingua(path: Path, languages: Sequence[str]) -> GoldSet:
    """A folder of <iso639-1>.txt (or one with a sentences/ subfolder), one sentence a line."""
    folder = path / "sentences" if (path / "sentences").is_dir() else path
    if not folder.is_dir():
        raise GoldSetError(f"{path}: expected a folder of <iso639-1>.txt files")
    texts: list[str] = []
    labels: list[str] = []
    missing = [lang for lang in languages if not (folder / f"{lang}.txt").is_file()]
    if missing:
        raise GoldSetError(f"{folder}: no {', '.join(f'{m}.txt' for m in missing)}")
    for lang in languages:
        for line in _read_lines(folder / f"{lang}.txt"):
            if line.strip():
                texts.append(line.strip())
                labels.append(lang)
    return GoldSet(texts, labels)


def interleaved(gold: GoldSet, limit: int | None) -> GoldSet:
    """The first `limit` items taken round-robin over labels, so a slice keeps every class."""
    if not limit:
        return gold
    by_label: dict[Any, list[int]] = {}
    for i, label in enumerate(gold.labels):
        by_label.setdefault(label, []).append(i)
    order: list[int] = []
    queues = list(by_label.values())
    depth = 0
    while len(order) < limit and any(depth < len(q) for q in queues):
        order.extend(q[depth] for q in queues if depth < len(q))
        depth += 1
    order = order[:limit]
    return GoldSet([gold.texts[i] for i in order], [gold.labels[i] for i in order], gold.mapping)


def read_csv(path: Path, text_column: str, label_column: str) -> GoldSet:
    if not path.is_file():
        raise GoldSetError(f"{path}: file not found")
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        columns = reader.fieldnames or []
        for wanted, option in ((text_column, "--text-column"), (label_column, "--label-column")):
            if wanted not in columns:
                raise GoldSetError(
                    f"{path}: no column {wanted!r} ({option}); columns: {', '.join(columns)}"
                )
        texts: list[str] = []
        labels: list[Any] = []
        for row in reader:
            texts.append(row[text_column] or "")
            labels.append(_csv_label(row[label_column]))
    if not texts:
        raise GoldSetError(f"{path}: no rows")
    return GoldSet(texts, labels)


def _csv_label(value: str | None) -> Any:
    v = (value or "").strip()
    low = v.lower()
    if low in ("1", "true", "yes", "y"):
        return 1
    if low in ("0", "false", "no", "n"):
        return 0
    return v


# Figures ------------------------------------------------------------------------------------


def pearson_r(predicted: Sequence[float], gold: Sequence[float]) -> float:
    from scipy.stats import pearsonr

    return float(pearsonr(predicted, gold)[0])


def classification_figures(predicted: Sequence[Any], gold: Sequence[Any]) -> dict[str, float]:
    from sklearn.metrics import (
        accuracy_score,
        f1_score,
        recall_score,
    )

    # "no answer" (None) is a wrong answer, not a class
    predicted = ["(none)" if p is None else p for p in predicted]
    labels = sorted(set(gold), key=str)
    return {
        "accuracy": float(accuracy_score(gold, predicted)),
        "macro_recall": float(
            recall_score(gold, predicted, labels=labels, average="macro", zero_division=0)
        ),
        "macro_f1": float(
            f1_score(gold, predicted, labels=labels, average="macro", zero_division=0)
        ),
    }


def binary_figures(
    flags: Sequence[bool], scores: Sequence[float], gold: Sequence[int]
) -> dict[str, float]:
    from sklearn.metrics import (
        f1_score,
        precision_score,
        recall_score,
        roc_auc_score,
    )

    predicted = [int(bool(f)) for f in flags]
    figures = {
        "precision": float(precision_score(gold, predicted, zero_division=0)),
        "recall": float(recall_score(gold, predicted, zero_division=0)),
        "f1": float(f1_score(gold, predicted, zero_division=0)),
        # Both classes' F1 averaged: TweetEval's official figure for its offensive task.
        "macro_f1": float(
            f1_score(gold, predicted, labels=[0, 1], average="macro", zero_division=0)
        ),
        "accuracy": float(sum(p == g for p, g in zip(predicted, gold, strict=True)) / len(gold)),
    }
    # ROC AUC needs both classes in the gold labels.
    figures["roc_auc"] = float(roc_auc_score(gold, scores)) if len(set(gold)) == 2 else float("nan")
    return figures


# Running an analyzer ------------------------------------------------------------------------


def run(analyzer: Analyzer, texts: Sequence[str]) -> list[dict[str, Any]]:
    """The analyzer's results, with the language detected first for those that need it."""
    detected: list[dict[str, Any]] = [{"language": None, "confidence": None}] * len(texts)
    if analyzer.name in ("sentiment", "emotion", "keywords"):
        from townsquare.listening.analyzers.registry import get_analyzer

        detector = get_analyzer("language")
        detected = []
        for start in range(0, len(texts), BATCH):
            detected.extend(detector.analyze([TextItem(t) for t in texts[start : start + BATCH]]))
    results: list[dict[str, Any]] = []
    for start in range(0, len(texts), BATCH):
        chunk = [
            TextItem(t, d["language"], d["confidence"])
            for t, d in zip(
                texts[start : start + BATCH], detected[start : start + BATCH], strict=True
            )
        ]
        results.extend(analyzer.analyze(chunk))
    return results


def evaluate(analyzer: Analyzer, gold: GoldSet, fmt: str) -> dict[str, Any]:
    """{"n": ..., figures...} for this analyzer on this gold set."""
    if analyzer.name == "sentiment":
        return _evaluate_sentiment(analyzer, gold, fmt)
    results = run(analyzer, gold.texts)
    figures: dict[str, Any] = {"n": len(gold.texts)}
    if analyzer.name == "language":
        predicted = [r["language"] for r in results]
        figures["accuracy"] = classification_figures(predicted, gold.labels)["accuracy"]
        figures["unknown"] = sum(p is None for p in predicted)
        return figures
    if analyzer.name in BINARY_ANALYZERS:
        gold_binary = _binary_labels(gold)
        flag_key = BINARY_ANALYZERS[analyzer.name]
        figures.update(
            binary_figures(
                [bool(r[flag_key]) for r in results],
                [float(r["score"]) for r in results],
                gold_binary,
            )
        )
        return figures
    if analyzer.name == "emotion":
        gold_names = [gold.mapping.get(g, str(g)) if isinstance(g, int) else g for g in gold.labels]
        predicted = [r["label"] for r in results]
        figures.update(classification_figures(predicted, gold_names))
        return figures
    raise GoldSetError(f"no figures defined for the {analyzer.name} analyzer")


def _binary_labels(gold: GoldSet) -> list[int]:
    labels: list[int] = []
    for label in gold.labels:
        if label in (0, 1):
            labels.append(int(label))
        else:
            raise GoldSetError(f"expected binary labels (1/0, true/false, yes/no), found {label!r}")
    return labels


def _evaluate_sentiment(analyzer: Analyzer, gold: GoldSet, fmt: str) -> dict[str, Any]:
    results = run(analyzer, gold.texts)
    figures: dict[str, Any] = {
        "n": len(gold.texts),
        "unsupported": sum(r["compound"] is None for r in results),
    }
    if fmt == "vader":
        # Unsupported texts have no compound to correlate; they are counted above.
        pairs = [(r["compound"], g) for r, g in zip(results, gold.labels, strict=True)]
        judged = [(c, g) for c, g in pairs if c is not None]
        figures["pearson_r"] = pearson_r([c for c, _ in judged], [g for _, g in judged])
        return figures
    gold_names = [
        gold.mapping.get(g, str(g)) if isinstance(g, int) and gold.mapping else str(g)
        for g in gold.labels
    ]
    predicted = [r["label"] for r in results]
    figures.update(classification_figures(predicted, gold_names))
    return figures


def is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)
