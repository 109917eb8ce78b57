"""Flagging messages for moderation, and moderators' decisions with their audit log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from townsquare.community.models import Interaction
from townsquare.connectors.models import ImportRun
from townsquare.listening.models import Enrichment, LabelCorrection
from townsquare.listening.pipeline import enrich_pending
from townsquare.listening.services import corrected_examples
from townsquare.moderation.models import (
    MessageTag,
    ModerationAction,
    ModerationItem,
    WatchedWord,
)
from townsquare.moderation.services import (
    REOPEN_REASON,
    do_moderate,
    do_pause_word,
    do_watch_word,
    flag_interactions,
    text_digest,
)
from townsquare.moderation.tests.conftest import (
    CALM,
    GIVEAWAY,
    IMMEDIATE_TASKS,
    QUESTION,
    SPAM,
    TOXIC,
    CaptureOnCommit,
    import_community,
    item_of,
    message,
)

pytestmark = pytest.mark.django_db


def snapshot() -> list[tuple[Any, ...]]:
    return list(
        ModerationItem.objects.order_by("id").values_list(
            "id", "interaction_id", "status", "reasons", "requires_review", "text_hash"
        )
    )


def watch(capture: CaptureOnCommit, settings: Any, term: str, action: str, **kw: Any) -> Any:
    """Watch a word; its background scan runs at once, as a worker would run it."""
    settings.TASKS = IMMEDIATE_TASKS
    with capture(execute=True):
        return do_watch_word(term=term, action=action, user=None, **kw)


def test_it_flags_toxic_and_spam_messages_when_they_are_enriched(community: ImportRun) -> None:
    toxic, spam = item_of(TOXIC), item_of(SPAM)

    assert ModerationItem.objects.count() == 2
    assert (toxic.status, toxic.requires_review, toxic.kinds) == ("pending", False, "toxicity")
    [reason] = toxic.reasons
    assert reason["kind"] == "toxicity" and reason["score"] > 0.5
    assert toxic.interaction.enrichment.is_toxic
    assert [r["kind"] for r in spam.reasons] == ["spam"]
    assert (toxic.decided_by, toxic.decided_at, toxic.is_hidden) == (None, None, False)


def test_it_adds_nothing_when_run_again(community: ImportRun) -> None:
    before = snapshot()
    ids = list(Interaction.objects.values_list("id", flat=True))

    assert flag_interactions(ids) == 0
    enrich_pending(rebuild=True)

    assert snapshot() == before
    assert not ModerationAction.objects.exists()


def test_it_costs_the_same_few_queries_whatever_the_batch_size(community: ImportRun) -> None:
    ids = sorted(Interaction.objects.values_list("id", flat=True))
    toxic = message(TOXIC).pk

    with CaptureQueriesContext(connection) as one:
        flag_interactions([toxic])
    with CaptureQueriesContext(connection) as every:
        flag_interactions(ids)

    # watched words, the batch's messages, their items (and the savepoint around the writes)
    assert len(one) == len(every) <= 5


def test_it_flags_the_messages_that_say_a_watched_word_already_there(
    community: ImportRun, settings: Any, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    word = watch(django_capture_on_commit_callbacks, settings, "  crypto   giveaway ", "flag")

    assert (word.term, word.action, word.is_active) == ("crypto giveaway", "flag", True)
    item = item_of(GIVEAWAY)
    assert item.reasons == [{"kind": "watched_word", "detail": "crypto giveaway", "score": None}]
    assert (item.status, item.requires_review) == ("pending", False)


def test_a_review_word_asks_for_review_and_adds_to_the_other_reasons(
    community: ImportRun, settings: Any, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    watch(django_capture_on_commit_callbacks, settings, "MORON", "review")

    item = item_of(TOXIC)
    assert item.requires_review
    assert [(r["kind"], r["detail"]) for r in item.reasons] == [
        ("toxicity", "toxic"),
        ("watched_word", "MORON"),
    ]
    assert item.kinds == "toxicity watched_word"


def test_it_matches_whole_words_only(
    community: ImportRun, settings: Any, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    watch(django_capture_on_commit_callbacks, settings, "note", "flag")  # "notes" is not it
    watch(django_capture_on_commit_callbacks, settings, "slides", "flag")

    assert not ModerationItem.objects.filter(interaction__text=CALM).exists()
    assert item_of(QUESTION).reasons[0]["detail"] == "slides"


def test_a_tag_word_tags_messages_without_queueing_them(
    community: ImportRun, settings: Any, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    word = watch(django_capture_on_commit_callbacks, settings, "giveaway", "tag", tag="giveaways")

    assert list(MessageTag.objects.values_list("word_id", "interaction_id")) == [
        (word.pk, message(GIVEAWAY).pk)
    ]
    assert not ModerationItem.objects.filter(interaction__text=GIVEAWAY).exists()
    with pytest.raises(ValueError, match="Name the tag"):
        do_watch_word(term="prize", action="tag", user=None)


def test_new_messages_are_checked_for_watched_words_as_they_are_enriched(
    db: None, tmp_path: Path
) -> None:
    WatchedWord.objects.create(term="giveaway", action="review")
    WatchedWord.objects.create(term="wiki", action="flag", is_active=False)

    import_community(tmp_path / "community")

    item = item_of(GIVEAWAY)
    assert item.requires_review
    # A paused word flags nothing.
    assert not ModerationItem.objects.filter(interaction__text=CALM).exists()
    # The pipeline hands over the texts it prepared; the item keeps the raw text's digest, as
    # a run that reads the texts itself finds it: nothing changes then.
    assert item.text_hash == text_digest(item.interaction.text)
    before = snapshot()
    assert flag_interactions(list(Interaction.objects.values_list("id", flat=True))) == 0
    assert snapshot() == before


def test_a_resumed_word_searches_the_messages_it_missed(
    community: ImportRun, settings: Any, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    word = WatchedWord.objects.create(term="wiki", action="flag", is_active=False)
    flag_interactions(list(Interaction.objects.values_list("id", flat=True)))
    assert not ModerationItem.objects.filter(interaction__text=CALM).exists()

    settings.TASKS = IMMEDIATE_TASKS
    with django_capture_on_commit_callbacks(execute=True):
        do_pause_word(word=word, active=True)

    assert item_of(CALM).reasons[0]["detail"] == "wiki"


@pytest.mark.parametrize(
    ("action", "status", "hidden"),
    [
        ("approve", "approved", False),
        ("hide", "hidden", True),
        ("escalate", "escalated", False),
        ("false_positive", "false_positive", False),
    ],
)
def test_each_decision_sets_the_status_and_writes_the_audit_log(
    community: ImportRun, moderator: User, action: str, status: str, hidden: bool
) -> None:
    item = item_of(TOXIC)

    entry = do_moderate(item=item, actor=moderator, action=action, reason="  Checked it. ")

    item.refresh_from_db()
    assert (item.status, item.is_hidden, item.decided_by) == (status, hidden, moderator)
    assert item.decided_at is not None
    assert ModerationAction.objects.get() == entry
    assert (entry.item, entry.actor, entry.action, entry.reason) == (
        item,
        moderator,
        action,
        "Checked it.",
    )
    assert (entry.status_before, entry.status_after, entry.at) == (
        "pending",
        status,
        item.decided_at,
    )


def test_approving_a_hidden_message_shows_it_again(community: ImportRun, moderator: User) -> None:
    item = item_of(SPAM)
    do_moderate(item=item, actor=moderator, action="hide", reason="Spam link")
    do_moderate(item=item, actor=moderator, action="approve")

    item.refresh_from_db()
    assert (item.status, item.is_hidden) == ("approved", False)
    log = ModerationAction.objects.order_by("at", "id")
    assert [(e.action, e.status_before, e.status_after) for e in log] == [
        ("hide", "pending", "hidden"),
        ("approve", "hidden", "approved"),
    ]


@pytest.mark.parametrize("action", ["hide", "escalate", "false_positive"])
def test_it_requires_a_reason_to_hide_escalate_or_mark_a_false_positive(
    community: ImportRun, moderator: User, action: str
) -> None:
    item = item_of(TOXIC)

    with pytest.raises(ValueError, match="a reason is required"):
        do_moderate(item=item, actor=moderator, action=action, reason="   ")

    item.refresh_from_db()
    assert item.status == "pending"
    assert not ModerationAction.objects.exists()
    assert not LabelCorrection.objects.exists()


def test_it_refuses_an_unknown_action_and_a_decision_already_made(
    community: ImportRun, moderator: User
) -> None:
    item = item_of(TOXIC)
    with pytest.raises(ValueError, match="unknown action 'reopen'"):
        do_moderate(item=item, actor=moderator, action="reopen", reason="x")
    do_moderate(item=item, actor=moderator, action="approve")
    with pytest.raises(ValueError, match="already approved"):
        do_moderate(item=item, actor=moderator, action="approve")
    assert ModerationAction.objects.count() == 1


def test_a_false_positive_corrects_the_label_for_good(
    community: ImportRun, moderator: User
) -> None:
    item = item_of(SPAM)

    do_moderate(item=item, actor=moderator, action="false_positive", reason="A real contest")

    correction = LabelCorrection.objects.get()
    assert (correction.interaction, correction.field, correction.value) == (
        item.interaction,
        "is_spam",
        False,
    )
    assert (correction.previous, correction.corrected_by) == (True, moderator)
    assert "A real contest" in correction.note
    # Re-enrichment keeps the correction, and the item stays decided.
    enrich_pending(rebuild=True)
    assert not Enrichment.objects.get(interaction=item.interaction).is_spam
    item.refresh_from_db()
    assert item.status == "false_positive"
    # ...and the correction is training data.
    assert list(corrected_examples("spam")) == [(SPAM, 0)]


def test_a_false_positive_on_a_watched_word_corrects_no_label(
    community: ImportRun,
    moderator: User,
    settings: Any,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    watch(django_capture_on_commit_callbacks, settings, "giveaway", "flag")

    do_moderate(item=item_of(GIVEAWAY), actor=moderator, action="false_positive", reason="Fine")

    assert not LabelCorrection.objects.exists()


def test_a_decision_stands_until_the_message_is_edited(
    community: ImportRun, moderator: User, tmp_path: Path
) -> None:
    item = item_of(TOXIC)
    do_moderate(item=item, actor=moderator, action="hide", reason="Insults")
    # Imported again unchanged, and enriched again: nothing re-opens.
    import_community(tmp_path / "again")
    enrich_pending(rebuild=True)
    item.refresh_from_db()
    assert item.status == "hidden"

    edited = TOXIC + " and you know it"
    import_community(tmp_path / "edited", toxic=edited)

    item.refresh_from_db()
    assert item.interaction.text == edited
    assert (item.status, item.decided_by, item.decided_at) == ("pending", None, None)
    # Still hidden until a moderator looks at the new text.
    assert item.is_hidden
    reopened = ModerationAction.objects.get(action="reopen")
    assert (reopened.actor, reopened.reason) == (None, REOPEN_REASON)
    assert (reopened.status_before, reopened.status_after) == ("hidden", "pending")
    assert ModerationItem.objects.count() == 2


def test_an_edit_updates_a_pending_item_in_place(community: ImportRun, tmp_path: Path) -> None:
    item = item_of(TOXIC)

    import_community(tmp_path / "edited", toxic=TOXIC + "!")

    updated = ModerationItem.objects.get(pk=item.pk)
    assert updated.status == "pending"
    assert updated.text_hash != item.text_hash
    assert not ModerationAction.objects.exists()
