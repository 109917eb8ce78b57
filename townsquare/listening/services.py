"""Changes people make to listening: label corrections and tracked terms."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.db import transaction

from townsquare.community.models import Interaction
from townsquare.inbox.rollup import refresh_labels
from townsquare.listening.models import (
    CorrectableField,
    Enrichment,
    LabelCorrection,
    SentimentLabel,
    TermKind,
    TrackedTerm,
)
from townsquare.listening.pipeline import (
    enrich_batch,
    normalize_term,
    prepared_text,
    refresh_rollups,
)

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

SENTIMENT_VALUES = (SentimentLabel.NEGATIVE, SentimentLabel.NEUTRAL, SentimentLabel.POSITIVE)
BOOLEAN_FIELDS = (CorrectableField.IS_TOXIC, CorrectableField.IS_SPAM, CorrectableField.IS_QUESTION)
_TRUE = {"1", "true", "yes", "y"}
_FALSE = {"0", "false", "no", "n"}
_LANGUAGE = re.compile(r"^[a-z]{2}$")
# Used when the emotion model cannot be read (the labels it was trained with, plus the rule's).
FALLBACK_EMOTIONS = ("anger", "joy", "optimism", "sadness", "gratitude")

# Analyzer (as `townsquare corrections export` names it) -> the field its corrections are in.
EXPORT_FIELDS = {
    "sentiment": CorrectableField.SENTIMENT_LABEL,
    "toxicity": CorrectableField.IS_TOXIC,
    "spam": CorrectableField.IS_SPAM,
    "question": CorrectableField.IS_QUESTION,
    "emotion": CorrectableField.EMOTION,
    "language": CorrectableField.LANGUAGE,
}


def emotion_labels() -> tuple[str, ...]:
    """The labels the emotion analyzer gives: its model's, and gratitude (a rule)."""
    try:
        from townsquare.listening.analyzers.classifier import shipped_model
        from townsquare.listening.analyzers.emotion import GRATITUDE

        return (*shipped_model("emotion").labels, GRATITUDE)
    except (ImportError, OSError, AttributeError, ValueError):
        return FALLBACK_EMOTIONS


def clean_value(field: str, value: Any) -> Any:
    """The value as stored, or ValueError naming what is allowed."""
    if field not in CorrectableField.values:
        raise ValueError(
            f"cannot correct {field!r}; the fields that can be corrected are: "
            f"{', '.join(CorrectableField.values)}"
        )
    if field == CorrectableField.SENTIMENT_LABEL:
        if value not in SENTIMENT_VALUES:
            raise ValueError(
                f"sentiment_label must be one of {', '.join(SENTIMENT_VALUES)}; got {value!r}"
            )
        return str(value)
    if field in BOOLEAN_FIELDS:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f"{field} must be true or false (also 1/0, yes/no); got {value!r}")
    if field == CorrectableField.LANGUAGE:
        code = str(value).strip().lower()
        if not _LANGUAGE.match(code):
            raise ValueError(
                f"language must be a two-letter ISO 639-1 code such as en, es, fr; got {value!r}"
            )
        return code
    labels = emotion_labels()
    if value not in labels:
        raise ValueError(f"emotion must be one of {', '.join(labels)}; got {value!r}")
    return str(value)


def do_correct_label(
    *,
    interaction: Interaction,
    field: str,
    value: Any,
    user: User | None,
    note: str = "",
) -> LabelCorrection:
    """Record a person's label for one interaction; it wins over the analyzers from now on,
    re-enrichment included."""
    value = clean_value(field, value)
    enrichment = Enrichment.objects.filter(interaction=interaction).first()
    if enrichment is None:
        enrich_batch([interaction.pk])
        enrichment = Enrichment.objects.get(interaction=interaction)
    if field in enrichment.corrected:
        # Already corrected: what the analyzers said is in the earlier correction.
        earlier = (
            LabelCorrection.objects.filter(interaction=interaction, field=field)
            .order_by("-created_at", "-id")
            .first()
        )
        previous = earlier.previous if earlier else None
    else:
        previous = getattr(enrichment, field)
    with transaction.atomic():
        correction = LabelCorrection.objects.create(
            interaction=interaction,
            field=field,
            value=value,
            previous=previous,
            corrected_by=user,
            note=note,
        )
    if field == CorrectableField.LANGUAGE:
        # The other analyzers depend on the language (sentiment is English-only): redo them.
        enrich_batch([interaction.pk])
    else:
        setattr(enrichment, field, value)
        enrichment.corrected = sorted({*enrichment.corrected, field})
        enrichment.save(update_fields=[field, "corrected"])
        refresh_labels([(interaction.pk, interaction.conversation_id)])  # the inbox's copy
        if field == CorrectableField.SENTIMENT_LABEL:
            refresh_rollups([interaction.created_at])  # the pulse counts sentiment by the hour
    return correction


def corrected_examples(analyzer: str) -> Iterator[tuple[str, Any]]:
    """(text, label) of every interaction whose `analyzer` label a person corrected; the
    latest correction of each interaction. Labels as the training module reads them."""
    try:
        field = EXPORT_FIELDS[analyzer]
    except KeyError:
        raise ValueError(
            f"no corrections for {analyzer!r}; expected one of: {', '.join(EXPORT_FIELDS)}"
        ) from None
    latest: dict[int, Any] = {}
    for interaction_id, value in (
        LabelCorrection.objects.filter(field=field)
        .order_by("created_at", "id")
        .values_list("interaction_id", "value")
    ):
        latest[interaction_id] = value
    ids = sorted(latest)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = Interaction.objects.filter(id__in=chunk).values_list(
            "id", "text", "source__platform"
        )
        for interaction_id, text, platform in sorted(rows):
            value = latest[interaction_id]
            label: Any = int(bool(value)) if field in BOOLEAN_FIELDS else value
            yield prepared_text(text, platform), label


def export_corrections(analyzer: str, out: SupportsWrite[str]) -> int:
    """Write `text,label` CSV of the corrected labels; returns the number of rows."""
    writer = csv.writer(out)
    writer.writerow(["text", "label"])
    count = 0
    for text, label in corrected_examples(analyzer):
        writer.writerow([text, label])
        count += 1
    return count


def do_track_term(*, term: str, kind: str, user: User | None) -> TrackedTerm:
    """Start tracking a term; the interactions already there are searched in the background."""
    if kind not in TermKind.values:
        raise ValueError(f"kind must be one of {', '.join(TermKind.values)}; got {kind!r}")
    term = normalize_term(term, kind)
    if not term.strip("#"):
        raise ValueError("a tracked term needs at least one letter or digit")
    tracked, created = TrackedTerm.objects.get_or_create(
        term=term, kind=kind, defaults={"created_by": user}
    )
    if not created and not tracked.is_active:
        tracked.is_active = True
        tracked.save(update_fields=["is_active"])
    queue_term_matching(tracked)
    return tracked


def queue_term_matching(term: TrackedTerm) -> None:
    """Match the term against existing interactions once the term is committed."""
    from townsquare.listening.tasks import match_term_task

    term_id = term.pk
    transaction.on_commit(lambda: match_term_task.enqueue(term_id))
