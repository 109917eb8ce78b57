"""The conversation rollup against the definitions of docs/metrics.md ("Time to first
response", "Unanswered conversations"), edge case by edge case, and against a plain Python
computation on the real Slack and Stack Exchange samples."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings

from townsquare.community.models import (
    Conversation,
    Identity,
    Interaction,
    InteractionKind,
    Member,
)
from townsquare.community.services import do_mark_member, do_merge_members, do_unmerge_member
from townsquare.connectors.slack.tests.export import write_slack_export
from townsquare.front.tests.conftest import DUMMY_TASKS
from townsquare.inbox.models import ConversationState
from townsquare.inbox.rollup import refresh_labels, refresh_states
from townsquare.inbox.tests.conftest import START, Community
from townsquare.lib.testing import import_export
from townsquare.listening.models import Enrichment
from townsquare.listening.pipeline import enrich_pending
from townsquare.listening.pulse import MESSAGE_KINDS
from townsquare.listening.services import do_correct_label

pytestmark = pytest.mark.django_db


def _state(conversation: Conversation) -> ConversationState:
    refresh_states([conversation.pk])
    return ConversationState.objects.get(conversation=conversation)


def test_it_finds_the_first_response_by_someone_else(community: Community) -> None:
    ada, ben = community.member("Ada"), community.member("Ben")
    talk = community.conversation()
    first = community.say(talk, ada, 0)
    community.say(talk, ben, 90, kind=InteractionKind.REPLY)
    community.say(talk, ada, 120, kind=InteractionKind.REPLY)
    state = _state(talk)
    assert state.opened_by == ada
    assert state.first_message == first
    assert state.opened_at == START
    assert state.first_response_at == START + timedelta(minutes=90)
    assert state.first_responder == ben
    assert state.message_count == 3
    assert state.last_activity_at == START + timedelta(minutes=120)
    assert not state.awaiting_reply


def test_it_does_not_count_the_authors_own_replies(community: Community) -> None:
    ada = community.member("Ada")
    talk = community.conversation()
    community.say(talk, ada, 0)
    community.say(talk, ada, 5, kind=InteractionKind.REPLY, text="Anyone?")
    community.say(talk, ada, 60, kind=InteractionKind.REPLY, text="Found it myself")
    state = _state(talk)
    assert state.first_response_at is None
    assert state.first_responder is None
    assert state.message_count == 3
    assert state.awaiting_reply


def test_it_does_not_count_bots(community: Community) -> None:
    ada = community.member("Ada")
    helper_bot = community.member("Helper", bot=True)
    # Importers mark the account (Slack's bot_message), not always the member.
    welcome = community.member("Welcome", bot_account=True)
    talk = community.conversation()
    community.say(talk, ada, 0)
    community.say(talk, helper_bot, 1, kind=InteractionKind.REPLY)
    community.say(talk, welcome, 2, kind=InteractionKind.REPLY)
    assert _state(talk).awaiting_reply
    ben = community.member("Ben")
    community.say(talk, ben, 30, kind=InteractionKind.REPLY)
    state = _state(talk)
    assert state.first_responder == ben
    assert state.first_response_at == START + timedelta(minutes=30)


def test_it_counts_team_members(community: Community) -> None:
    ada, staff = community.member("Ada"), community.member("Sam")
    Member.objects.filter(pk=staff.pk).update(is_team=True)
    talk = community.conversation()
    community.say(talk, ada, 0)
    community.say(talk, staff, 10, kind=InteractionKind.REPLY)
    assert _state(talk).first_responder == staff


def test_it_counts_reactions_only_when_the_setting_says_so(community: Community) -> None:
    ada, ben, cy = community.member("Ada"), community.member("Ben"), community.member("Cy")
    talk = community.conversation()
    community.say(talk, ada, 0)
    community.say(talk, ada, 1, kind=InteractionKind.REACTION, text="eyes")  # her own
    community.say(talk, ben, 5, kind=InteractionKind.REACTION, text="+1")
    community.say(talk, cy, 50, kind=InteractionKind.REPLY)
    state = _state(talk)
    assert (state.first_responder, state.message_count) == (cy, 2)
    with override_settings(TOWNSQUARE_TTFR_COUNTS_REACTIONS=True):
        state = _state(talk)
    assert state.first_responder == ben
    assert state.first_response_at == START + timedelta(minutes=5)


@pytest.mark.parametrize(
    "kind",
    [
        InteractionKind.JOIN,
        InteractionKind.LEAVE,
        InteractionKind.VOTE,
        InteractionKind.EDIT,
        InteractionKind.EVENT,
        InteractionKind.ACCEPTED,
    ],
)
def test_it_does_not_count_other_kinds(community: Community, kind: str) -> None:
    ada, ben = community.member("Ada"), community.member("Ben")
    talk = community.conversation()
    community.say(talk, ada, 0)
    community.say(talk, ben, 5, kind=kind)
    with override_settings(TOWNSQUARE_TTFR_COUNTS_REACTIONS=True):
        state = _state(talk)
    assert state.first_response_at is None
    assert state.awaiting_reply
    assert state.last_activity_at == START + timedelta(minutes=5)


def test_it_counts_every_message_kind(community: Community) -> None:
    ada = community.member("Ada")
    for minutes, kind in enumerate(MESSAGE_KINDS, start=1):
        talk = community.conversation()
        community.say(talk, ada, 0, kind=InteractionKind.POST)
        community.say(talk, community.member(f"Responder {kind}"), minutes, kind=kind)
        assert _state(talk).first_response_at == START + timedelta(minutes=minutes), kind


def test_it_has_no_value_when_nobody_responds(community: Community) -> None:
    talk = community.conversation()
    community.say(talk, community.member("Ada"), 0)
    state = _state(talk)
    assert state.first_response_at is None
    assert state.first_responder is None
    assert state.awaiting_reply


def test_it_awaits_nothing_without_a_message(community: Community) -> None:
    """A conversation holding only votes (a deleted post's) has nothing to answer."""
    talk = community.conversation(at=START)
    community.say(talk, None, 60, kind=InteractionKind.VOTE)
    state = _state(talk)
    assert state.first_message is None
    assert state.opened_at == START
    assert state.message_count == 0
    assert not state.awaiting_reply


def test_it_takes_the_first_message_by_time_then_id(community: Community) -> None:
    ada, ben = community.member("Ada"), community.member("Ben")
    talk = community.conversation()
    # Imported out of order: the reply comes first in id order.
    community.say(talk, ben, 30, kind=InteractionKind.REPLY)
    first = community.say(talk, ada, 0)
    state = _state(talk)
    assert state.first_message == first
    assert state.opened_by == ada
    assert state.first_responder == ben


def test_it_lets_anyone_answer_an_unknown_author(community: Community) -> None:
    talk = community.conversation()
    community.say(talk, None, 0)
    ben = community.member("Ben")
    community.say(talk, ben, 3, kind=InteractionKind.REPLY)
    state = _state(talk)
    assert state.opened_by is None
    assert state.first_responder == ben


def test_it_never_counts_an_unknown_responder(community: Community) -> None:
    talk = community.conversation()
    community.say(talk, community.member("Ada"), 0)
    community.say(talk, None, 3, kind=InteractionKind.REPLY)
    assert _state(talk).awaiting_reply


def test_it_copies_the_first_messages_labels(community: Community) -> None:
    ada, ben = community.member("Ada"), community.member("Ben")
    talk = community.conversation()
    first = community.say(talk, ada, 0, text="Où est la doc ?")
    reply = community.say(talk, ada, 1, kind=InteractionKind.REPLY, text="Please help")
    community.label(
        first, language="fr", sentiment=-0.5, sentiment_label="negative", is_question=True
    )
    community.label(reply, language="en", sentiment_label="positive")
    state = _state(talk)
    assert (state.is_question, state.language) == (True, "fr")
    assert (state.sentiment, state.sentiment_score) == ("negative", -0.5)
    Enrichment.objects.filter(interaction=first).delete()
    community.say(talk, ben, 2, kind=InteractionKind.REPLY)
    state = _state(talk)
    assert (state.is_question, state.language, state.sentiment) == (False, "", "")


def test_it_keeps_a_manual_answer_across_refreshes(community: Community, bob: Any) -> None:
    talk = community.conversation()
    community.say(talk, community.member("Ada"), 0)
    refresh_states()
    ConversationState.objects.filter(conversation=talk).update(
        answered_at=START,
        answered_by=bob,
        answered_link="https://example.org/a",
        awaiting_reply=False,
    )
    state = _state(talk)
    assert (state.answered_by, state.answered_link) == (bob, "https://example.org/a")
    assert not state.awaiting_reply


def test_it_compares_the_surviving_member_after_a_merge(community: Community) -> None:
    """Ada answered her own question from a second account: once merged, it is her own
    reply; unmerged, it counts again."""
    ada, ada_work, ben = community.member("Ada"), community.member("Ada W"), community.member("Ben")
    talk = community.conversation()
    community.say(talk, ada, 0)
    community.say(talk, ada_work, 10, kind=InteractionKind.REPLY)
    community.say(talk, ben, 20, kind=InteractionKind.REPLY)
    refresh_states()
    assert ConversationState.objects.get(conversation=talk).first_responder == ada_work
    do_merge_members(target=ada, others=[ada_work], actor=None, reason="same person")
    state = ConversationState.objects.get(conversation=talk)
    assert (state.opened_by, state.first_responder) == (ada, ben)
    assert state.first_response_at == START + timedelta(minutes=20)
    do_unmerge_member(member=ada_work, actor=None, reason="two people after all")
    assert ConversationState.objects.get(conversation=talk).first_responder == ada_work


def test_it_follows_a_member_marked_as_a_bot(community: Community) -> None:
    ada, ben = community.member("Ada"), community.member("Ben")
    talk = community.conversation()
    community.say(talk, ada, 0)
    community.say(talk, ben, 5, kind=InteractionKind.REPLY)
    refresh_states()
    assert not ConversationState.objects.get(conversation=talk).awaiting_reply
    do_mark_member(member=ben, actor=None, is_bot=True)
    assert ConversationState.objects.get(conversation=talk).awaiting_reply


def test_the_command_refreshes_every_conversation(
    community: Community, capsys: pytest.CaptureFixture[str]
) -> None:
    ada = community.member("Ada")
    for _ in range(3):
        community.say(community.conversation(), ada, 0)
    call_command("inbox", "refresh")
    assert ConversationState.objects.count() == 3
    call_command("inbox", "refresh", str(Conversation.objects.first().pk))  # type: ignore[union-attr]
    first, again = capsys.readouterr().out.splitlines()
    assert first.startswith("Checked 3 conversations in ")
    assert first.endswith(": 3 states new or changed; 3 await a reply.")
    assert again.endswith(": 0 states new or changed; 3 await a reply.")
    assert again.startswith("Checked 1 conversation in ")


def test_it_refreshes_in_batches(community: Community, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("townsquare.inbox.rollup.BATCH_SIZE", 2)
    talks = [community.conversation() for _ in range(5)]
    for talk in talks:
        community.say(talk, community.member(f"Ada {talk.pk}"), 0)
    assert refresh_states() == 5
    assert ConversationState.objects.count() == 5
    # Unchanged rows are not written again.
    assert refresh_states() == 0
    for talk in talks[1:4]:
        community.say(talk, community.member(f"Ben {talk.pk}"), 5, kind=InteractionKind.REPLY)
    assert refresh_states([talks[1].pk, talks[3].pk, talks[4].pk, 999_999]) == 2
    assert refresh_states() == 1
    assert ConversationState.objects.filter(awaiting_reply=True).count() == 2


def test_it_follows_each_import_and_correction(tmp_path: Path, alice: Any) -> None:
    """The enrichment that follows an import rolls up the conversations of the messages it
    brought; a relabelling copies the first message's labels; a person's correction of them
    reaches the rollup at once."""
    users: list[dict[str, Any]] = [
        {"id": "U1", "name": "ada", "profile": {"real_name": "Ada"}},
        {"id": "U2", "name": "ben", "profile": {"real_name": "Ben"}},
        {"id": "B1", "name": "helper", "is_bot": True, "profile": {"real_name": "Helper"}},
    ]
    root = "1700000000.000100"
    question = {"type": "message", "user": "U1", "text": "Where are the slides?", "ts": root}
    own = {"type": "message", "user": "U1", "text": "Anyone?", "ts": "1700000060.000100",
           "thread_ts": root}  # fmt: skip
    bot = {"type": "message", "subtype": "bot_message", "bot_id": "B1", "username": "helper",
           "text": "Try the wiki", "ts": "1700000090.000100", "thread_ts": root}  # fmt: skip
    with override_settings(TASKS={"default": {"BACKEND": DUMMY_TASKS}}):
        import_export(
            "slack", write_slack_export(tmp_path / "a", {"help": [question, own, bot]}, users)
        )
    enrich_pending()
    state = ConversationState.objects.get()
    assert state.awaiting_reply and state.message_count == 3
    assert state.opened_by == Member.objects.get(display_name="Ada")
    assert (state.is_question, state.language) == (True, "en")

    answer = {"type": "message", "user": "U2", "text": "Pinned in #help", "ts": "1700000600.000100",
              "thread_ts": root}  # fmt: skip
    export = write_slack_export(tmp_path / "b", {"help": [question, own, bot, answer]}, users)
    with override_settings(TASKS={"default": {"BACKEND": DUMMY_TASKS}}):
        import_export("slack", export, source="slack:a")
    enrich_pending()
    state = ConversationState.objects.get()
    assert not state.awaiting_reply and state.is_question and state.message_count == 4
    assert state.first_responder == Member.objects.get(display_name="Ben")
    assert state.first_response_at == state.opened_at + timedelta(seconds=600)

    assert state.first_message is not None
    for value in (True, False):
        do_correct_label(
            interaction=state.first_message, field="is_question", value=value, user=alice
        )
        assert ConversationState.objects.get().is_question is value


def test_an_edit_that_moves_a_message_recounts_both_conversations(tmp_path: Path) -> None:
    users: list[dict[str, Any]] = [
        {"id": "U1", "name": "ada", "profile": {"real_name": "Ada"}},
        {"id": "U2", "name": "ben", "profile": {"real_name": "Ben"}},
    ]
    first = {"type": "message", "user": "U1", "text": "Slides?", "ts": "1700000000.000100"}
    second = {"type": "message", "user": "U1", "text": "Video?", "ts": "1700000100.000100"}
    answer = {"type": "message", "user": "U2", "text": "Here", "ts": "1700000200.000100",
              "thread_ts": first["ts"]}  # fmt: skip
    with override_settings(TASKS={"default": {"BACKEND": DUMMY_TASKS}}):
        import_export(
            "slack", write_slack_export(tmp_path / "a", {"help": [first, second, answer]}, users)
        )
        enrich_pending()
        slides, video = Conversation.objects.order_by("started_at")
        assert not ConversationState.objects.get(conversation=slides).awaiting_reply
        assert ConversationState.objects.get(conversation=video).awaiting_reply
        moved = {**answer, "thread_ts": second["ts"], "edited": {"ts": "1700000300.000000"}}
        import_export(
            "slack",
            write_slack_export(tmp_path / "b", {"help": [first, second, moved]}, users),
            source="slack:a",
        )
    assert ConversationState.objects.get(conversation=slides).awaiting_reply
    assert ConversationState.objects.get(conversation=slides).message_count == 1
    assert not ConversationState.objects.get(conversation=video).awaiting_reply


@override_settings(TOWNSQUARE_TTFR_COUNTS_REACTIONS=True)
def test_an_import_of_reactions_alone_recounts_their_conversations(tmp_path: Path) -> None:
    """No enrichment reads a reaction: the import recounts the conversations it reacted in."""
    users: list[dict[str, Any]] = [
        {"id": "U1", "name": "ada", "profile": {"real_name": "Ada"}},
        {"id": "U2", "name": "ben", "profile": {"real_name": "Ben"}},
    ]
    question = {"type": "message", "user": "U1", "text": "Slides?", "ts": "1700000000.000100"}
    with override_settings(TASKS={"default": {"BACKEND": DUMMY_TASKS}}):
        import_export("slack", write_slack_export(tmp_path / "a", {"help": [question]}, users))
        enrich_pending()
        assert ConversationState.objects.get().awaiting_reply
        liked = {**question, "reactions": [{"name": "eyes", "users": ["U2"], "count": 1}]}
        import_export(
            "slack", write_slack_export(tmp_path / "b", {"help": [liked]}, users), source="slack:a"
        )
    state = ConversationState.objects.get()
    assert not state.awaiting_reply
    assert state.first_responder == Member.objects.get(display_name="Ben")


def test_relabelled_messages_reach_the_states_they_open(community: Community) -> None:
    """`refresh_labels` copies the labels of first messages only, and rolls up whole a
    conversation that has no state yet."""
    ada, ben = community.member("Ada"), community.member("Ben")
    talk = community.conversation()
    first = community.say(talk, ada, 0, text="Où est la doc ?")
    reply = community.say(talk, ben, 1, kind=InteractionKind.REPLY, text="Ici")
    refresh_states([talk.pk])
    before = ConversationState.objects.get(conversation=talk)
    community.label(reply, language="fr", sentiment_label="positive", is_question=True)
    assert refresh_labels([(reply.pk, talk.pk)]) == 0  # not the first message: nothing to copy
    community.label(first, language="fr", sentiment=-0.4, sentiment_label="negative")
    Enrichment.objects.filter(interaction=first).update(is_question=True)
    assert refresh_labels([(first.pk, talk.pk), (reply.pk, talk.pk)]) == 1
    state = ConversationState.objects.get(conversation=talk)
    assert (state.is_question, state.language) == (True, "fr")
    assert (state.sentiment, state.sentiment_score) == ("negative", -0.4)
    assert state.refreshed_at > before.refreshed_at
    assert (state.first_responder_id, state.message_count) == (ben.pk, 2)
    assert refresh_labels([(first.pk, talk.pk)]) == 0  # unchanged: not written again

    other = community.conversation("Another")
    opener = community.say(other, ada, 5, text="Anyone?")
    community.label(opener, language="en", is_question=True)
    assert refresh_labels([(opener.pk, other.pk)]) == 1
    state = ConversationState.objects.get(conversation=other)
    assert state.awaiting_reply and state.is_question and state.first_message_id == opener.pk


# The real samples -------------------------------------------------------------------------


def _expected(*, reactions: bool) -> dict[int, dict[str, Any]]:
    """Every conversation's state, computed the plain way: one conversation at a time, in
    Python, from the definitions."""
    answers = {*MESSAGE_KINDS, *([InteractionKind.REACTION] if reactions else [])}
    bot_members = set(Member.objects.filter(is_bot=True).values_list("id", flat=True))
    bot_accounts = set(Identity.objects.filter(is_bot=True).values_list("id", flat=True))
    labels = {e.interaction_id: e for e in Enrichment.objects.all()}
    items: dict[int, list[Interaction]] = defaultdict(list)
    for item in Interaction.objects.exclude(conversation=None).order_by("created_at", "id"):
        items[item.conversation_id].append(item)  # type: ignore[index]
    expected = {}
    for talk in Conversation.objects.all():
        rows = items[talk.pk]
        messages = [i for i in rows if i.kind in MESSAGE_KINDS]
        first = messages[0] if messages else None
        opener = first.member_id if first else None
        responses = [
            i
            for i in rows
            if i.kind in answers
            and i.member_id is not None
            and i.member_id != opener
            and i.member_id not in bot_members
            and i.identity_id not in bot_accounts
        ]
        response = responses[0] if responses else None
        label = labels.get(first.pk) if first else None
        expected[talk.pk] = {
            "opened_by": opener,
            "first_message": first.pk if first else None,
            "opened_at": first.created_at if first else talk.started_at,
            "is_question": bool(label and label.is_question),
            "language": (label.language or "") if label else "",
            "sentiment": label.sentiment_label if label else "",
            "first_response_at": response.created_at if response else None,
            "first_responder": response.member_id if response else None,
            "last_activity_at": max((i.created_at for i in rows), default=None),
            "message_count": len(messages),
            "awaiting_reply": first is not None
            and response is None
            and opener not in bot_members
            and first.identity_id not in bot_accounts,
        }
    return expected


def _actual() -> dict[int, dict[str, Any]]:
    return {
        s.conversation_id: {
            "opened_by": s.opened_by_id,
            "first_message": s.first_message_id,
            "opened_at": s.opened_at,
            "is_question": s.is_question,
            "language": s.language,
            "sentiment": s.sentiment,
            "first_response_at": s.first_response_at,
            "first_responder": s.first_responder_id,
            "last_activity_at": s.last_activity_at,
            "message_count": s.message_count,
            "awaiting_reply": s.awaiting_reply,
        }
        for s in ConversationState.objects.all()
    }


def test_it_matches_a_plain_computation_on_the_real_samples(shared_data: Path) -> None:
    import_export("slack", shared_data / "slack_houstondatavis")
    import_export("stackexchange", shared_data / "stackexchange_conlang_meta")
    # The enrichment that follows an import rolls up the conversations it touched.
    enrich_pending()
    expected = _expected(reactions=False)
    assert _actual() == expected
    states = ConversationState.objects
    # The samples hold answered and unanswered conversations, questions among both.
    assert states.filter(awaiting_reply=False, is_question=True).count() >= 40
    assert states.filter(awaiting_reply=True, is_question=True).exists()

    with override_settings(TOWNSQUARE_TTFR_COUNTS_REACTIONS=True):
        refresh_states()
        assert _actual() == _expected(reactions=True)
    assert _actual() != expected  # the Slack sample's reactions answered some conversations


def test_it_tells_which_of_some_conversations_await_a_reply(community: Community) -> None:
    from townsquare.inbox.models import awaiting_among

    ada, ben = community.member("Ada"), community.member("Ben")
    waiting, answered = community.conversation(), community.conversation()
    community.say(waiting, ada, 0)
    community.say(answered, ada, 0)
    community.say(answered, ben, 5, kind=InteractionKind.REPLY)
    refresh_states()
    never_rolled_up = community.conversation()
    ids = [waiting.pk, answered.pk, never_rolled_up.pk, waiting.pk]
    assert awaiting_among(ids) == {waiting.pk}
    assert awaiting_among([]) == set()


def test_a_bots_post_awaits_no_reply(community: Community) -> None:
    ada = community.member("Ada")
    ci = community.member("CI", bot=True)
    feed = community.member("Feed", bot_account=True)  # only the account is marked
    deploys, news, question = (community.conversation() for _ in range(3))
    community.say(deploys, ci, 0, text="Docs deployed")
    community.say(news, feed, 0, text="New release out")
    community.say(question, ada, 0, text="How do I deploy the docs?")
    refresh_states()
    waiting = set(
        ConversationState.objects.filter(awaiting_reply=True).values_list(
            "conversation_id", flat=True
        )
    )
    assert waiting == {question.pk}
    # Unmarked, its posts wait like anyone's.
    do_mark_member(member=ci, actor=None, is_bot=False)
    assert ConversationState.objects.get(conversation=deploys).awaiting_reply


def test_the_migration_takes_bots_posts_out_of_the_inbox(community: Community) -> None:
    import importlib
    from types import SimpleNamespace

    from django.db import connection

    ada = community.member("Ada")
    ci = community.member("CI", bot=True)
    feed = community.member("Feed", bot_account=True)
    talks = [community.conversation() for _ in range(3)]
    for talk, author in zip(talks, [ada, ci, feed], strict=True):
        community.say(talk, author, 0)
    refresh_states()
    ConversationState.objects.update(awaiting_reply=True)  # as the rollup left them before
    migration = importlib.import_module("townsquare.inbox.migrations.0004_bots_await_no_reply")
    migration.clear_bots_posts(None, SimpleNamespace(connection=connection))
    waiting = ConversationState.objects.filter(awaiting_reply=True)
    assert list(waiting.values_list("conversation_id", flat=True)) == [talks[0].pk]
