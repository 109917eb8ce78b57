from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from townsquare.api.services import do_create_token
from townsquare.api.tests.conftest import Api, AssertNumQueries, Community, Talk, at
from townsquare.community.models import Conversation, Interaction, InteractionKind
from townsquare.inbox.rollup import refresh_states
from townsquare.lib.testing import make_staff
from townsquare.moderation.models import ModerationItem
from townsquare.moderation.services import do_moderate


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    return response.json()


def ids(response: Any) -> list[int]:
    return [c["id"] for c in ok(response)["items"]]


def test_it_lists_conversations_newest_first_with_their_inbox_state(
    alice: User, alice_api: Api, community: Community, talk: Talk
) -> None:
    body = ok(alice_api.get("/conversations"))
    assert (body["count"], body["limit"], body["offset"]) == (2, 50, 0)
    bonjour, question = body["items"]
    assert (bonjour["id"], question["id"]) == (talk.bonjour.pk, talk.question.pk)
    assert question["title"] == "Heatmaps"
    assert question["channel"]["name"] == "help"
    assert bonjour["channel"] is None
    state = question["state"]
    assert state["opened_by"] == {"id": community.ada.pk, "display_name": "Ada Lovelace"}
    assert state["first_message_id"] == talk.asked.pk
    assert state["first_responder_id"] == community.bob.pk
    assert state["first_response_at"] == "2024-03-04T12:00:00Z"
    assert (state["awaiting_reply"], state["is_question"], state["language"]) == (False, True, "en")
    assert state["message_count"] == 3  # the reaction is not a message
    assert question["claim"] is None
    # Chloé's French issue awaits a reply, claimed by alice; its first message was labelled
    # negative by a person, and the state says so.
    assert bonjour["state"]["awaiting_reply"] is True
    assert bonjour["state"]["sentiment"] == "negative"
    assert bonjour["claim"]["user"] == {"id": alice.pk, "username": "alice"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"awaiting_reply": True}, ["bonjour"]),
        ({"awaiting_reply": False}, ["question", "unrolled"]),
        ({"claimed": True}, ["bonjour"]),
        ({"claimed": False}, ["unrolled", "question"]),
        ({"source": "slack"}, ["unrolled", "question"]),
        ({"channel": "help"}, ["unrolled", "question"]),
        ({"since": "2024-03-10T12:00:00Z"}, ["unrolled", "bonjour"]),
        ({"until": "2024-03-10T12:00:00Z"}, ["question"]),
        ({"since": "2024-03-01", "until": "2024-03-04", "awaiting_reply": False}, ["question"]),
    ],
)
def test_it_filters_conversations(
    alice_api: Api, community: Community, talk: Talk, params: dict[str, Any], expected: list[str]
) -> None:
    # One the inbox rollup has not seen yet: it has no state, so it is not awaiting a reply.
    unrolled = Conversation.objects.create(
        source=community.slack, channel=talk.help, external_id="t2", started_at=at(12)
    )
    named = {
        "slack": community.slack.pk,
        "help": talk.help.pk,
        "question": talk.question.pk,
        "bonjour": talk.bonjour.pk,
        "unrolled": unrolled.pk,
    }
    query = {k: named.get(v, v) if isinstance(v, str) else v for k, v in params.items()}
    response = alice_api.get("/conversations", **query)
    assert set(ids(response)) == {named[n] for n in expected}
    assert ok(response)["count"] == len(expected)


@pytest.mark.usefixtures("talk")
def test_it_refuses_bad_conversation_filters(alice_api: Api) -> None:
    for params, named in (
        ({"since": "2024-03-10", "until": "2024-03-10"}, "since"),
        ({"source": "slack"}, "source"),
        ({"claimed": "perhaps"}, "claimed"),
        ({"limit": 500}, "limit"),
    ):
        response = alice_api.get("/conversations", **params)
        assert response.status_code == 422, params
        assert [p["loc"] for p in response.json()["detail"]] == [["query", named]]


def test_it_shows_a_conversation_with_a_page_of_its_messages(alice_api: Api, talk: Talk) -> None:
    body = ok(alice_api.get(f"/conversations/{talk.question.pk}"))
    assert body["title"] == "Heatmaps"
    assert body["state"]["first_message_id"] == talk.asked.pk
    messages = body["messages"]
    assert (messages["count"], messages["limit"], messages["offset"]) == (3, 50, 0)
    # In time order, without the reaction (listed by /interactions?kind=reaction).
    assert [m["id"] for m in messages["items"]] == [talk.asked.pk, talk.answered.pk, talk.spam.pk]
    assert messages["items"][1]["parent_id"] == talk.asked.pk
    assert messages["items"][1]["labels"]["is_gratitude"] is True
    second = ok(alice_api.get(f"/conversations/{talk.question.pk}", limit=1, offset=1))
    assert [m["id"] for m in second["messages"]["items"]] == [talk.answered.pk]
    assert second["messages"]["count"] == 3


def test_it_hides_hidden_messages_and_their_labels_below_moderators(
    alice: User, alice_api: Api, talk: Talk
) -> None:
    # The moderator hides Chloé's first message of the French issue.
    flagged = ModerationItem.objects.create(interaction=talk.french, text_hash="x")
    do_moderate(item=flagged, actor=alice, action="hide", reason="Off topic")
    vera = make_staff("vera", role="viewer")
    viewer = Api(Client(), do_create_token(user=vera, name="vera's")[1])
    question = ok(viewer.get(f"/conversations/{talk.question.pk}"))
    spam = question["messages"]["items"][2]
    assert (spam["hidden"], spam["text"], spam["labels"]) == (True, None, None)
    bonjour = ok(viewer.get(f"/conversations/{talk.bonjour.pk}"))
    state = bonjour["state"]
    assert (state["is_question"], state["language"], state["sentiment"]) == (None, None, None)
    assert state["first_message_id"] == talk.french.pk
    assert ok(viewer.get("/conversations"))["items"][0]["state"]["sentiment"] is None
    assert b"depuis hier" not in viewer.get(f"/conversations/{talk.bonjour.pk}").content
    shown = ok(alice_api.get(f"/conversations/{talk.bonjour.pk}"))
    assert shown["state"]["sentiment"] == "negative"
    assert shown["messages"]["items"][0]["text"] == "Bonjour, le build échoue depuis hier."


@pytest.mark.usefixtures("talk")
def test_it_answers_404_for_a_missing_conversation(alice_api: Api, client: Client) -> None:
    response = alice_api.get("/conversations/999999")
    assert (response.status_code, response.json()) == (404, {"detail": "No conversation #999999."})
    assert alice_api.get("/conversations/0").status_code == 422
    assert client.get("/api/v1/conversations").status_code == 401


def test_it_lists_conversations_in_the_same_number_of_queries_however_many(
    alice_api: Api,
    community: Community,
    talk: Talk,
    django_assert_num_queries: AssertNumQueries,
) -> None:
    alice_api.get("/conversations")  # the token's last use is recorded once a minute
    # token (1), count (1), page with sources, channels, states and claims (1)
    with django_assert_num_queries(3):
        assert len(ids(alice_api.get("/conversations"))) == 2
    for n in range(20):
        conversation = Conversation.objects.create(
            source=community.slack, channel=talk.help, external_id=f"more{n}", started_at=at(15)
        )
        Interaction.objects.create(
            source=community.slack,
            external_id=f"more{n}",
            kind=InteractionKind.POST,
            member=community.chloe,
            channel=talk.help,
            conversation=conversation,
            text="Anyone?",
            created_at=at(15),
            content_hash="x",
            imported_at=at(15),
        )
    refresh_states()
    with django_assert_num_queries(3):
        assert len(ids(alice_api.get("/conversations"))) == 22
    # token (1), conversation (1), message count (1), messages (1), tracked terms (1),
    # thanks (1: Bob's answer thanks), corrections: none
    with django_assert_num_queries(6):
        ok(alice_api.get(f"/conversations/{talk.question.pk}"))
