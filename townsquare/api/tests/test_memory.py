from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User

from townsquare.api.tests.conftest import Api, AssertNumQueries, Community, at
from townsquare.community.models import (
    Interaction,
    InteractionKind,
    KnowledgeEntry,
    Member,
    Note,
    Touchpoint,
)

HOSTILE = "<script>alert('x')</script> & \"quotes\" <img src=x onerror=alert(1)> 🎉\n**bold**"


def message(community: Community, member: Member, external_id: str) -> Interaction:
    return Interaction.objects.create(
        source=community.slack,
        external_id=external_id,
        kind=InteractionKind.MESSAGE,
        member=member,
        text="Try the pandas cookbook: https://example.org/cookbook",
        created_at=at(4),
        content_hash="x",
        imported_at=at(4),
    )


def test_it_adds_and_lists_notes(alice: User, alice_api: Api, community: Community) -> None:
    url = f"/members/{community.ada.pk}/notes"
    first = alice_api.post(url, {"text": "Gave a talk on charts"})
    assert first.status_code == 201, first.content
    assert first.json()["author"] == {"id": alice.pk, "username": "alice"}
    alice_api.post(url, {"text": "Wants to mentor"})
    page = alice_api.get(url).json()
    assert page["count"] == 2
    assert [n["text"] for n in page["items"]] == ["Wants to mentor", "Gave a talk on charts"]
    assert Note.objects.filter(member=community.ada, author=alice).count() == 2
    assert alice_api.get(url, limit=1, offset=1).json()["items"][0]["text"] == (
        "Gave a talk on charts"
    )


def test_it_refuses_an_empty_note(alice_api: Api, community: Community) -> None:
    url = f"/members/{community.ada.pk}/notes"
    assert alice_api.post(url, {"text": ""}).status_code == 422
    assert alice_api.post(url, {"text": "   "}).status_code == 422
    assert alice_api.post(url, {}).status_code == 422
    assert alice_api.post("/members/999999/notes", {"text": "x"}).status_code == 404
    assert not Note.objects.exists()


def test_it_lets_only_the_author_edit_or_delete_a_note(
    alice_api: Api, bob_api: Api, community: Community
) -> None:
    note_id = alice_api.post(f"/members/{community.ada.pk}/notes", {"text": "draft"}).json()["id"]
    assert bob_api.patch(f"/notes/{note_id}", {"text": "bob's"}).status_code == 403
    assert bob_api.delete(f"/notes/{note_id}").status_code == 403
    edited = alice_api.patch(f"/notes/{note_id}", {"text": "final"})
    assert edited.status_code == 200
    assert edited.json()["text"] == "final"
    assert Note.objects.get(pk=note_id).text == "final"
    assert alice_api.delete(f"/notes/{note_id}").status_code == 204
    assert not Note.objects.filter(pk=note_id).exists()
    assert alice_api.delete(f"/notes/{note_id}").status_code == 404


def test_it_refuses_memory_on_a_merged_member(alice_api: Api, community: Community) -> None:
    base = f"/members/{community.merged.pk}"
    response = alice_api.post(f"{base}/notes", {"text": "hello"})
    assert response.status_code == 409
    assert f"#{community.ada.pk}" in response.json()["detail"]
    assert (
        alice_api.post(f"{base}/touchpoints", {"happened_at": "2024-03-02T10:00:00Z"}).status_code
        == 409
    )
    assert alice_api.post(f"{base}/knowledge", {"title": "A tip"}).status_code == 409


def test_it_logs_and_lists_touchpoints(alice: User, alice_api: Api, community: Community) -> None:
    ada = community.ada
    msg = message(community, ada, "m1")
    url = f"/members/{ada.pk}/touchpoints"
    response = alice_api.post(
        url,
        {
            "happened_at": "2024-03-02T10:00:00+02:00",
            "channel": "  DM on   Slack ",
            "reason": "Thanked her for the answer",
            "outcome": "She will write a guide",
            "interaction_id": msg.pk,
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["happened_at"] == "2024-03-02T08:00:00Z"
    assert (body["channel"], body["interaction_id"]) == ("DM on Slack", msg.pk)
    assert body["staff"]["username"] == "alice"
    # A time without a zone is read as UTC.
    alice_api.post(url, {"happened_at": "2024-03-05T09:30:00", "channel": "email"})
    stored = Touchpoint.objects.get(channel="email")
    assert stored.happened_at == datetime(2024, 3, 5, 9, 30, tzinfo=UTC)
    page = alice_api.get(url).json()
    assert page["count"] == 2
    assert [t["channel"] for t in page["items"]] == ["email", "DM on Slack"]


def test_it_refuses_a_touchpoint_about_someone_elses_message(
    alice_api: Api, community: Community
) -> None:
    bobs = message(community, community.bob, "m2")
    response = alice_api.post(
        f"/members/{community.ada.pk}/touchpoints",
        {"happened_at": "2024-03-02T10:00:00Z", "interaction_id": bobs.pk},
    )
    assert response.status_code == 422
    assert (
        alice_api.post(
            f"/members/{community.ada.pk}/touchpoints", {"happened_at": "not a time"}
        ).status_code
        == 422
    )
    assert not Touchpoint.objects.exists()


def test_it_credits_and_lists_knowledge(alice_api: Api, community: Community) -> None:
    ada = community.ada
    msg = message(community, ada, "m3")
    url = f"/members/{ada.pk}/knowledge"
    response = alice_api.post(
        url,
        {
            "title": "The pandas cookbook",
            "url": "https://example.org/cookbook",
            "note": "We link it in onboarding",
            "interaction_id": msg.pk,
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["created_by"]["username"] == "alice"
    page = alice_api.get(url).json()
    assert page["count"] == 1
    assert page["items"][0]["url"] == "https://example.org/cookbook"
    assert KnowledgeEntry.objects.get().interaction == msg


def test_it_refuses_a_link_that_is_not_http(alice_api: Api, community: Community) -> None:
    response = alice_api.post(
        f"/members/{community.ada.pk}/knowledge",
        {"title": "Click", "url": "javascript:alert(1)"},
    )
    assert response.status_code == 422
    assert "http" in response.json()["detail"]
    assert not KnowledgeEntry.objects.exists()


def test_it_round_trips_a_hostile_string_as_data(alice_api: Api, community: Community) -> None:
    ada = community.ada
    note = alice_api.post(f"/members/{ada.pk}/notes", {"text": HOSTILE})
    assert note["Content-Type"].startswith("application/json")
    assert note.json()["text"] == HOSTILE
    # Data, not markup: nothing HTML-escaped, and browsers told not to sniff it as HTML.
    assert b"&lt;" not in note.content
    assert note["X-Content-Type-Options"] == "nosniff"
    assert Note.objects.get().text == HOSTILE
    listed = alice_api.get(f"/members/{ada.pk}/notes").json()["items"][0]["text"]
    assert listed == HOSTILE
    name = HOSTILE.replace("\n", " ")[:200]
    patched = alice_api.patch(f"/members/{ada.pk}", {"custom_fields": {"<b>": name}})
    assert patched.json()["custom_fields"]["<b>"] == name
    found = alice_api.get("/members", q="<script>").json()
    assert found["count"] == 0
    assert alice_api.post(f"/members/{ada.pk}/notes", {"text": "a\x00b"}).status_code == 422


@pytest.mark.parametrize("kind", ["notes", "touchpoints", "knowledge"])
def test_it_lists_memory_in_the_same_number_of_queries_however_many(
    alice: User,
    bob: User,
    alice_api: Api,
    community: Community,
    django_assert_num_queries: AssertNumQueries,
    kind: str,
) -> None:
    ada = community.ada

    def add(author: User, i: int) -> None:
        if kind == "notes":
            Note.objects.create(member=ada, author=author, text=f"note {i}")
        elif kind == "touchpoints":
            Touchpoint.objects.create(member=ada, staff=author, happened_at=at(1 + i))
        else:
            KnowledgeEntry.objects.create(member=ada, created_by=author, title=f"tip {i}")

    add(alice, 0)
    url = f"/members/{ada.pk}/{kind}"
    alice_api.get(url)  # the token's last use is recorded once a minute: not below
    # token (1), member (1), count (1), page with its authors (1)
    with django_assert_num_queries(4):
        assert len(alice_api.get(url).json()["items"]) == 1
    for i in range(1, 15):
        add(bob if i % 2 else alice, i)
    with django_assert_num_queries(4):
        assert len(alice_api.get(url).json()["items"]) == 15


def test_it_hides_knowledge_from_a_hidden_message_below_moderators(
    alice: User, alice_api: Api, community: Community
) -> None:
    from django.test import Client

    from townsquare.api.services import do_create_token
    from townsquare.lib.testing import make_staff
    from townsquare.moderation.models import ModerationItem
    from townsquare.moderation.services import do_moderate

    msg = message(community, community.ada, "m-hidden")
    url = f"/members/{community.ada.pk}/knowledge"
    created = alice_api.post(
        url,
        {
            "title": "The secret cookbook",
            "url": "https://example.org/cookbook",
            "interaction_id": msg.pk,
        },
    )
    assert created.status_code == 201, created.content
    flagged = ModerationItem.objects.create(interaction=msg, text_hash="x")
    do_moderate(item=flagged, actor=alice, action="hide", reason="Off topic")
    vera = make_staff("vera", role="viewer")
    viewer = Api(Client(), do_create_token(user=vera, name="vera's")[1])
    response = viewer.get(url)
    [entry] = response.json()["items"]
    assert (entry["hidden"], entry["title"], entry["url"]) == (True, "", "")
    assert b"secret cookbook" not in response.content
    [shown] = alice_api.get(url).json()["items"]
    assert (shown["hidden"], shown["title"]) == (True, "The secret cookbook")
