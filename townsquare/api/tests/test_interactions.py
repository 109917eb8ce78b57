from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from townsquare.api.services import do_create_token
from townsquare.api.tests.conftest import Api, AssertNumQueries, Community, Talk, at
from townsquare.community.models import Interaction, InteractionKind
from townsquare.lib.testing import make_staff
from townsquare.listening.models import Enrichment, TermMatch, TrackedTerm


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    return response.json()


def texts(response: Any) -> list[str | None]:
    return [i["text"] for i in ok(response)["items"]]


def api_for(role: str) -> Api:
    user = make_staff(f"{role}-user", role=role)
    return Api(Client(), do_create_token(user=user, name=role)[1])


def test_it_lists_interactions_newest_first_with_their_labels(alice_api: Api, talk: Talk) -> None:
    body = ok(alice_api.get("/interactions"))
    assert (body["count"], body["limit"], body["offset"]) == (5, 50, 0)
    assert [i["id"] for i in body["items"]] == [
        talk.french.pk,
        talk.spam.pk,
        talk.reacted.pk,
        talk.answered.pk,
        talk.asked.pk,
    ]
    asked = body["items"][-1]
    assert asked["text"] == "How do I plot a HEATMAP by weekday?"
    assert (asked["kind"], asked["member"]["display_name"]) == ("post", "Ada Lovelace")
    assert asked["source"]["platform"] == "slack"
    assert asked["channel"] == {
        "id": talk.help.pk,
        "name": "help",
        "source_id": talk.help.source_id,
    }
    assert asked["conversation_id"] == talk.question.pk
    labels = asked["labels"]
    assert (labels["language"], labels["sentiment"], labels["is_question"]) == (
        "en",
        "neutral",
        True,
    )
    assert labels["keywords"] == ["heatmap", "weekday"]
    assert labels["corrections"] == []
    # A reaction has no words to judge, and was never enriched here.
    assert body["items"][2]["labels"] is None
    assert body["items"][2]["parent_id"] == talk.asked.pk


def test_it_shows_corrected_labels_as_they_win_over_the_analyzers(
    alice: User, alice_api: Api, talk: Talk
) -> None:
    french = ok(alice_api.get(f"/interactions/{talk.french.pk}"))
    assert french["labels"]["sentiment"] == "negative"
    assert french["labels"]["language"] == "fr"
    [correction] = french["labels"]["corrections"]
    assert correction["field"] == "sentiment_label"
    assert (correction["value"], correction["previous"]) == ("negative", "unsupported")
    assert correction["corrected_by"] == {"id": alice.pk, "username": "alice"}
    assert correction["note"] == "Angry"
    # The conversation page's labels come from the same rows.
    browser = Client()
    browser.force_login(alice)
    page = browser.get(f"/conversations/{talk.bonjour.pk}/")
    [entry] = page.context["thread"].entries
    assert entry.interaction.labels.enrichment.sentiment_label == "negative"


def test_it_lists_the_tracked_terms_a_message_mentions(alice_api: Api, talk: Talk) -> None:
    term = TrackedTerm.objects.create(term="heatmap")
    TermMatch.objects.create(term=term, interaction=talk.asked)
    assert ok(alice_api.get(f"/interactions/{talk.asked.pk}"))["labels"]["terms"] == ["heatmap"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "post", "since": "2024-03-01", "until": "2024-03-31"}, ["asked", "french"]),
        ({"language": "FR", "since": "2024-03-01T00:00:00Z", "until": "2024-03-20"}, ["french"]),
        ({"sentiment": "negative", "since": "2024-03-01", "until": "2024-03-31"}, ["french"]),
        ({"sentiment": "positive", "member": "bob"}, ["answered"]),
        ({"is_question": True, "since": "2024-03-01", "until": "2024-03-31"}, ["asked"]),
        ({"is_question": False, "member": "bob"}, ["answered", "spam"]),
        ({"text": "heatMap", "since": "2024-03-01", "until": "2024-03-31"}, ["asked", "spam"]),
        ({"text": "pivot", "member": "bob"}, ["answered"]),
        ({"text": "ÉCHOUE", "member": "chloe"}, ["french"]),
        ({"text": "100%", "member": "chloe"}, []),
        ({"member": "chloe"}, ["reacted", "french"]),
        ({"member": "chloe", "kind": "reaction"}, ["reacted"]),
        (
            {"since": "2024-03-04T12:00:00Z", "until": "2024-03-10T12:00:00Z"},
            ["answered", "reacted", "spam"],
        ),
        ({"source": "github", "since": "2024-03-01", "until": "2024-03-31"}, ["french"]),
        ({"channel": "help", "member": "ada"}, ["asked"]),
        ({"conversation": "question", "kind": "reaction"}, ["reacted"]),
        ({"conversation": "question", "text": "pills"}, ["spam"]),
    ],
)
def test_it_filters_interactions(
    alice_api: Api, community: Community, talk: Talk, params: dict[str, Any], expected: list[str]
) -> None:
    ids = {
        "ada": community.ada.pk,
        "bob": community.bob.pk,
        "chloe": community.chloe.pk,
        "github": community.github.pk,
        "help": talk.help.pk,
        "question": talk.question.pk,
    }
    query = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in params.items()}
    body = ok(alice_api.get("/interactions", **query))
    wanted = {getattr(talk, name).pk for name in expected}
    assert {i["id"] for i in body["items"]} == wanted
    assert body["count"] == len(wanted)


def test_it_pages_interactions(alice_api: Api, talk: Talk) -> None:
    first = ok(alice_api.get("/interactions", limit=2))
    second = ok(alice_api.get("/interactions", limit=2, offset=2))
    last = ok(alice_api.get("/interactions", limit=2, offset=4))
    ids = [i["id"] for page in (first, second, last) for i in page["items"]]
    assert ids == [i["id"] for i in ok(alice_api.get("/interactions"))["items"]]
    assert (last["count"], len(last["items"])) == (5, 1)
    assert ok(alice_api.get("/interactions", offset=10))["items"] == []


@pytest.mark.usefixtures("talk")
def test_it_bounds_filters_no_index_serves(alice_api: Api) -> None:
    for params, named in (
        ({"text": "heatmap"}, "text"),
        ({"channel": 1, "since": "2024-01-01", "until": "2024-03-01"}, "channel"),
        ({"sentiment": "negative", "since": "2024-01-01"}, "sentiment"),
        ({"since": "2024-03-02", "until": "2024-03-01"}, "since"),
        ({"kind": "gossip"}, "kind"),
        ({"text": "a"}, "text"),
        ({"text": "a\x00b", "member": 1}, "text"),
        ({"member": 0}, "member"),
        ({"since": "yesterday"}, "since"),
    ):
        response = alice_api.get("/interactions", **params)
        assert response.status_code == 422, params
        assert [p["loc"] for p in response.json()["detail"]] == [["query", named]], params
    message = alice_api.get("/interactions", text="heatmap").json()["detail"][0]["msg"]
    assert "member, a conversation, or since and until" in message


def test_it_hides_a_hidden_messages_text_and_labels_below_moderators(
    alice_api: Api, talk: Talk
) -> None:
    viewer = api_for("viewer")
    hidden = ok(viewer.get(f"/interactions/{talk.spam.pk}"))
    assert (hidden["hidden"], hidden["text"], hidden["labels"]) == (True, None, None)
    listed = [i for i in ok(viewer.get("/interactions"))["items"] if i["id"] == talk.spam.pk]
    assert [(i["text"], i["labels"]) for i in listed] == [(None, None)]
    # Nor can a search tell what it says or how it was labelled.
    window = {"since": "2024-03-01", "until": "2024-03-31"}
    searched = viewer.get("/interactions", text="pills", **window)
    assert ok(searched)["count"] == 0 and b"pills" not in searched.content
    found = ok(viewer.get("/interactions", member=talk.spam.member_id, sentiment="neutral"))
    assert talk.spam.pk not in {i["id"] for i in found["items"]}
    # Moderators and the roles above them (the conversation page's rule).
    for reader in (api_for("moderator"), api_for("manager"), alice_api):
        shown = ok(reader.get(f"/interactions/{talk.spam.pk}"))
        assert (shown["hidden"], shown["text"]) == (True, "Cheap heatmap pills at example.com")
        assert shown["labels"]["is_spam"] is True
        assert (
            ok(reader.get("/interactions", text="pills", member=talk.spam.member_id))["count"] == 1
        )


@pytest.mark.usefixtures("talk")
def test_it_answers_404_for_a_missing_interaction(alice_api: Api) -> None:
    response = alice_api.get("/interactions/999999")
    assert (response.status_code, response.json()) == (404, {"detail": "No interaction #999999."})
    assert alice_api.get("/interactions/0").status_code == 422
    assert alice_api.get(f"/interactions/{2**63}").status_code == 422


def test_it_refuses_interactions_without_a_token(client: Client, talk: Talk) -> None:
    for path in ("/api/v1/interactions", f"/api/v1/interactions/{talk.asked.pk}"):
        response = client.get(path)
        assert response.status_code == 401
        assert response.json()["detail"]


def test_it_lists_interactions_in_the_same_number_of_queries_however_many(
    alice_api: Api,
    community: Community,
    talk: Talk,
    django_assert_num_queries: AssertNumQueries,
) -> None:
    alice_api.get("/interactions")  # the token's last use is recorded once a minute: not below
    # token (1), count (1), page (1), tracked terms (1), thanks (1, a message gives thanks),
    # corrections (1, a label was corrected)
    with django_assert_num_queries(6):
        assert len(texts(alice_api.get("/interactions"))) == 5
    for n in range(20):
        more = Interaction.objects.create(
            source=community.slack,
            external_id=f"more{n}",
            kind=InteractionKind.MESSAGE,
            member=community.chloe,
            channel=talk.help,
            conversation=talk.question,
            text=f"message {n}",
            created_at=at(6),
            content_hash="x",
            imported_at=at(6),
        )
        Enrichment.objects.create(
            interaction=more, analyzed=True, is_gratitude=True, version_key="t", enriched_at=at(6)
        )
    with django_assert_num_queries(6):
        assert len(texts(alice_api.get("/interactions"))) == 25
    # token (1), the interaction with its joins (1), tracked terms (1)
    with django_assert_num_queries(3):
        ok(alice_api.get(f"/interactions/{talk.asked.pk}"))
