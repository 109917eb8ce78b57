"""People's corrections: validated, applied at once, kept through re-enrichment, exported."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from townsquare.community.models import Interaction
from townsquare.connectors.slack.tests.export import write_slack_export
from townsquare.lib.testing import import_export, make_staff
from townsquare.listening.models import Enrichment, LabelCorrection
from townsquare.listening.pipeline import enrich_pending
from townsquare.listening.services import do_correct_label

pytestmark = pytest.mark.django_db

TEXTS = (
    "This release is fantastic, thank you all!",
    "Win a free iPhone, click here now",
    "Where do I find the meetup slides",
    "Ce tableau de bord est vraiment très utile pour notre équipe",
)


@pytest.fixture(autouse=True)
def community(tmp_path: Path, settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    messages = [
        {"type": "message", "user": "U1", "text": text, "ts": f"{1_700_000_000 + i}.000100"}
        for i, text in enumerate(TEXTS)
    ]
    import_export("slack", write_slack_export(tmp_path, {"general": messages}), source="t")
    enrich_pending()


def interaction(text: str) -> Interaction:
    return Interaction.objects.get(text=text)


def enrichment(text: str) -> Enrichment:
    return Enrichment.objects.get(interaction__text=text)


def test_it_applies_a_correction_to_the_enrichment_at_once() -> None:
    alice = make_staff("alice")
    spam = interaction(TEXTS[1])
    automatic = enrichment(TEXTS[1]).is_spam

    correction = do_correct_label(
        interaction=spam, field="is_spam", value=not automatic, user=alice, note="obvious"
    )

    row = enrichment(TEXTS[1])
    assert row.is_spam is (not automatic)
    assert row.corrected == ["is_spam"]
    assert correction.previous is automatic
    assert correction.corrected_by == alice
    assert correction.note == "obvious"


def test_it_keeps_corrections_through_a_rebuild() -> None:
    happy = interaction(TEXTS[0])
    assert enrichment(TEXTS[0]).sentiment_label == "positive"
    do_correct_label(interaction=happy, field="sentiment_label", value="negative", user=None)
    do_correct_label(interaction=happy, field="is_question", value="yes", user=None)

    enrich_pending(rebuild=True)

    row = enrichment(TEXTS[0])
    assert row.sentiment_label == "negative"
    assert row.is_question is True
    assert row.corrected == ["is_question", "sentiment_label"]
    # The automatic values the person did not touch are still the analyzers'.
    assert row.sentiment is not None and row.sentiment > 0


def test_it_lets_the_latest_correction_win_and_remembers_the_automatic_value() -> None:
    asking = interaction(TEXTS[2])
    automatic = enrichment(TEXTS[2]).is_question

    do_correct_label(interaction=asking, field="is_question", value=not automatic, user=None)
    second = do_correct_label(interaction=asking, field="is_question", value=automatic, user=None)

    assert enrichment(TEXTS[2]).is_question is automatic
    # The second correction's "previous" is what the analyzer said, not the first person's.
    assert second.previous is automatic
    enrich_pending(rebuild=True)
    assert enrichment(TEXTS[2]).is_question is automatic


def test_it_reanalyzes_a_message_whose_language_is_corrected() -> None:
    french = interaction(TEXTS[3])
    assert enrichment(TEXTS[3]).language == "fr"
    assert enrichment(TEXTS[3]).sentiment_label == "unsupported"

    do_correct_label(interaction=french, field="language", value="EN", user=None)

    row = enrichment(TEXTS[3])
    assert row.language == "en"
    # Sentiment now runs, as on English text; the person's language survives a rebuild.
    assert row.sentiment_label != "unsupported"
    assert row.sentiment is not None
    enrich_pending(rebuild=True)
    assert enrichment(TEXTS[3]).language == "en"


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("sentiment_label", "unsupported", "negative, neutral, positive"),
        ("sentiment_label", "happy", "negative, neutral, positive"),
        ("is_toxic", "maybe", "true or false"),
        ("language", "english", "ISO 639-1"),
        ("keywords", ["x"], "sentiment_label, is_toxic, is_spam, is_question, language, emotion"),
    ],
)
def test_it_refuses_a_bad_correction_naming_what_is_allowed(
    field: str, value: Any, named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        do_correct_label(interaction=interaction(TEXTS[0]), field=field, value=value, user=None)

    assert not LabelCorrection.objects.exists()
    assert enrichment(TEXTS[0]).corrected == []


def test_it_refuses_an_unknown_emotion() -> None:
    with pytest.raises(ValueError, match="emotion must be one of"):
        do_correct_label(
            interaction=interaction(TEXTS[0]), field="emotion", value="bored-ish", user=None
        )


def test_it_exports_corrected_labels_for_training(tmp_path: Path) -> None:
    do_correct_label(interaction=interaction(TEXTS[1]), field="is_spam", value=True, user=None)
    do_correct_label(interaction=interaction(TEXTS[0]), field="is_spam", value=True, user=None)
    do_correct_label(interaction=interaction(TEXTS[0]), field="is_spam", value=False, user=None)
    do_correct_label(
        interaction=interaction(TEXTS[2]), field="sentiment_label", value="neutral", user=None
    )
    out = tmp_path / "spam.csv"

    call_command("corrections", "export", "spam", "--out", str(out))

    with out.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert sorted((r["text"], r["label"]) for r in rows) == sorted(
        [(TEXTS[1], "1"), (TEXTS[0], "0")]
    )


def test_it_exports_sentiment_labels_to_standard_output() -> None:
    do_correct_label(
        interaction=interaction(TEXTS[2]), field="sentiment_label", value="neutral", user=None
    )
    stdout = io.StringIO()

    call_command("corrections", "export", "sentiment", stdout=stdout)

    rows = list(csv.reader(io.StringIO(stdout.getvalue())))
    assert rows == [["text", "label"], [TEXTS[2], "neutral"]]
