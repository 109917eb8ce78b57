from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from townsquare.api.tests.conftest import Api, AssertNumQueries, Community, at
from townsquare.community.engagement import refresh_engagement
from townsquare.community.models import (
    AuditAction,
    AuditEntry,
    Identity,
    Interaction,
    KnowledgeEntry,
    Member,
    MemberTag,
    Note,
    Touchpoint,
)
from townsquare.moderation.models import ModerationItem


def names(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [m["display_name"] for m in response.json()["items"]]


def test_it_lists_members_by_name_without_merged_or_erased_ones(
    alice_api: Api, community: Community
) -> None:
    response = alice_api.get("/members")
    body = response.json()
    assert names(response) == ["Ada Lovelace", "Bob Builder", "Chloé Martin"]
    assert (body["count"], body["limit"], body["offset"]) == (3, 50, 0)
    ada = body["items"][0]
    assert ada["tags"] == ["Speaker"]
    assert ada["interaction_count"] == 12
    assert ada["first_seen_at"] == "2024-03-01T12:00:00Z"
    assert [(i["platform"], i["handle"]) for i in ada["identities"]] == [
        ("slack", "ada"),
        ("github", "countess"),
    ]
    merged = names(alice_api.get("/members", include_merged=True))
    assert merged == ["Ada Lovelace", "Ada Old", "Bob Builder", "Chloé Martin"]
    erased = names(alice_api.get("/members", include_erased=True))
    assert erased == ["Ada Lovelace", "Bob Builder", "Chloé Martin", "Erased member"]


@pytest.mark.usefixtures("community")
def test_it_pages_members_with_a_total_count(alice_api: Api) -> None:
    for i in range(7):
        Member.objects.create(display_name=f"Zed {i}")
    page = alice_api.get("/members", limit=4, offset=8).json()
    assert page["count"] == 10
    assert [m["display_name"] for m in page["items"]] == ["Zed 5", "Zed 6"]
    everyone = [m["display_name"] for m in alice_api.get("/members", limit=200).json()["items"]]
    assert everyone[:3] == ["Ada Lovelace", "Bob Builder", "Chloé Martin"]
    assert len(everyone) == 10


@pytest.mark.usefixtures("community")
def test_it_refuses_a_page_larger_than_the_maximum(alice_api: Api) -> None:
    for params in ({"limit": 201}, {"limit": 0}, {"offset": -1}):
        response = alice_api.get("/members", **params)
        assert response.status_code == 422
        assert response.json()["detail"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "LOVE"}, ["Ada Lovelace"]),
        ({"q": "countess"}, ["Ada Lovelace"]),  # a handle
        ({"q": "example.net"}, ["Chloé Martin"]),  # an email
        ({"q": "ada l."}, ["Ada Lovelace"]),  # an identity's display name
        ({"platform": "github"}, ["Ada Lovelace", "Chloé Martin"]),
        ({"platform": "mastodon"}, []),
        ({"tag": "speaker"}, ["Ada Lovelace"]),
        ({"first_seen_after": "2024-03-05T12:00:00Z"}, ["Bob Builder", "Chloé Martin"]),
        ({"first_seen_before": "2024-03-05T12:00:00Z"}, ["Ada Lovelace"]),
        ({"last_seen_after": "2024-03-20T00:00:00+01:00"}, ["Ada Lovelace", "Chloé Martin"]),
        ({"last_seen_before": "2024-03-20T12:00:00"}, ["Bob Builder"]),  # naive: read as UTC
        ({"platform": "slack", "last_seen_after": "2024-03-10"}, ["Ada Lovelace"]),
        ({"q": "ada", "include_merged": True}, ["Ada Lovelace", "Ada Old"]),
    ],
)
def test_it_filters_members(
    alice_api: Api, community: Community, params: dict[str, Any], expected: list[str]
) -> None:
    response = alice_api.get("/members", **params)
    assert names(response) == expected
    assert response.json()["count"] == len(expected)


def test_it_filters_members_by_source(alice_api: Api, community: Community) -> None:
    assert names(alice_api.get("/members", source=community.slack.pk)) == [
        "Ada Lovelace",
        "Bob Builder",
    ]


def test_it_lists_members_in_the_same_number_of_queries_however_many(
    alice_api: Api, community: Community, django_assert_num_queries: AssertNumQueries
) -> None:
    alice_api.get("/members")  # the token's last use is recorded once a minute: not below
    # token (1), count (1), page (1), tags (1), identities (1)
    with django_assert_num_queries(5):
        assert len(names(alice_api.get("/members"))) == 3
    for i in range(20):
        member = Member.objects.create(display_name=f"Member {i}")
        Identity.objects.create(source=community.github, member=member, external_id=f"m{i}")
        MemberTag.objects.create(member=member, tag=community.speaker)
    with django_assert_num_queries(5):
        assert len(names(alice_api.get("/members"))) == 23


def test_it_shows_a_member_in_full(alice: User, alice_api: Api, community: Community) -> None:
    ada = community.ada
    Note.objects.create(member=ada, author=alice, text="one")
    Note.objects.create(member=ada, author=alice, text="two")
    Touchpoint.objects.create(member=ada, staff=alice, happened_at=at(3))
    KnowledgeEntry.objects.create(member=ada, title="A tip", created_by=alice)
    response = alice_api.get(f"/members/{ada.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["display_name"] == "Ada Lovelace"
    assert body["custom_fields"] == {"company": "Analytical Engines"}
    assert body["counts"] == {
        "interactions": 12,
        "identities": 2,
        "notes": 2,
        "touchpoints": 1,
        "knowledge": 1,
    }
    assert [t["name"] for t in body["tags"]] == ["Speaker"]
    assert [(i["source"]["name"], i["email"]) for i in body["identities"]] == [
        ("Data Vis Slack", "ada@example.org"),
        ("townsquare repo", ""),
    ]
    assert (body["do_not_contact"], body["is_team"], body["is_bot"]) == (False, False, False)
    assert body["last_seen_at"] == "2024-03-20T12:00:00Z"
    merged = alice_api.get(f"/members/{community.merged.pk}").json()
    assert merged["merged_into_id"] == ada.pk


@pytest.mark.usefixtures("community")
def test_it_answers_404_for_a_missing_member(alice_api: Api) -> None:
    for path in ("/members/999999", "/members/999999/identities", "/identities/999999"):
        response = alice_api.get(path)
        assert response.status_code == 404
        assert response.json()["detail"].startswith("No ")
    assert alice_api.get("/members/99999999999999999999999").status_code == 422
    assert alice_api.get("/members/abc").status_code == 422


def test_it_changes_a_member_and_audits_the_marks(
    alice: User, alice_api: Api, community: Community
) -> None:
    ada = community.ada
    response = alice_api.patch(
        f"/members/{ada.pk}",
        {
            "display_name": "  Ada   King ",
            "do_not_contact": True,
            "is_team": False,
            "custom_fields": {"company": None, "time zone": "Europe/London"},
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["display_name"] == "Ada King"
    assert body["do_not_contact"] is True
    assert body["custom_fields"] == {"time zone": "Europe/London"}
    ada.refresh_from_db()
    assert (ada.display_name, ada.do_not_contact, ada.is_team) == ("Ada King", True, False)
    assert ada.custom_fields == {"time zone": "Europe/London"}
    audit = AuditEntry.objects.get()
    assert (audit.action, audit.member_ids, audit.actor) == (AuditAction.MARK, [ada.pk], alice)
    assert audit.details == {"before": {"do_not_contact": False}, "after": {"do_not_contact": True}}
    # Fields left out stay as they are.
    assert alice_api.patch(f"/members/{ada.pk}", {"is_bot": True}).json()["display_name"] == (
        "Ada King"
    )


def test_it_refuses_changes_to_merged_or_erased_members(
    alice_api: Api, community: Community
) -> None:
    for member in (community.merged, community.erased):
        response = alice_api.patch(f"/members/{member.pk}", {"display_name": "New"})
        assert response.status_code == 409
        assert "merged" in response.json()["detail"] or "erased" in response.json()["detail"]
    assert alice_api.patch("/members/999999", {"is_bot": True}).status_code == 404


def test_it_refuses_an_invalid_change(alice_api: Api, community: Community) -> None:
    url = f"/members/{community.ada.pk}"
    assert alice_api.patch(url, {"display_name": ""}).status_code == 422
    assert alice_api.patch(url, {"display_name": "   "}).status_code == 422
    assert alice_api.patch(url, {"is_bot": "perhaps"}).status_code == 422
    assert alice_api.patch(url, {"custom_fields": {"": "x"}}).status_code == 422
    community.ada.refresh_from_db()
    assert community.ada.display_name == "Ada Lovelace"


def test_it_lists_and_shows_identities(alice_api: Api, community: Community) -> None:
    items = alice_api.get(f"/members/{community.ada.pk}/identities").json()["items"]
    assert [(i["handle"], i["source"]["platform"]) for i in items] == [
        ("ada", "slack"),
        ("countess", "github"),
    ]
    one = alice_api.get(f"/identities/{items[1]['id']}").json()
    assert (one["member_id"], one["display_name"], one["external_id"]) == (
        community.ada.pk,
        "Ada L.",
        "1",
    )
    assert "raw" not in one
    assert [i["is_deactivated"] for i in items] == [False, False]
    # Slack's export marks a deactivated user `deleted`.
    Identity.objects.filter(pk=items[0]["id"]).update(raw={"id": "U1", "deleted": True})
    first = alice_api.get(f"/identities/{items[0]['id']}").json()
    assert first["is_deactivated"] is True


def _wrote(member: Member, text: str, n: int) -> Interaction:
    identity = member.identities.first()
    assert identity is not None
    return Interaction.objects.create(
        source=identity.source,
        identity=identity,
        member=member,
        external_id=f"said{n}",
        kind="message",
        text=text,
        created_at=at(n + 1),
        imported_at=at(n + 1),
    )


@pytest.mark.parametrize(
    ("api", "page", "expected"),
    [
        (
            {"text": "WEBHOOK"},
            {"text": "WEBHOOK", "sort": "name"},
            ["Ada Lovelace", "Chloé Martin"],
        ),
        ({"text": "webhook", "sort": "last_seen"}, {"text": "webhook"}, None),
        ({"is_team": True}, {"team": "yes", "sort": "name"}, ["Bob Builder"]),
        ({"is_team": False, "sort": "interactions"}, {"team": "no", "sort": "interactions"}, None),
        (
            {"do_not_contact": False, "is_bot": False},
            {"dnc": "no", "bot": "no", "sort": "name"},
            None,
        ),
        ({"level": "new"}, {"level": "new", "sort": "name"}, None),
        (
            {"text": "webhook", "platform": "github"},
            {"text": "webhook", "sort": "name", "platform": "github"},
            ["Ada Lovelace", "Chloé Martin"],
        ),
        (
            {"text": "webhook", "include_erased": True, "is_team": True},
            {"text": "webhook", "team": "yes", "erased": "on"},
            [],
        ),
    ],
)
def test_it_filters_members_as_the_member_list_page_does(
    alice: User,
    alice_api: Api,
    community: Community,
    api: dict[str, Any],
    page: dict[str, Any],
    expected: list[str] | None,
) -> None:
    _wrote(community.ada, "The webhook fires twice", 0)
    _wrote(community.chloe, "Which Webhook URL?", 1)
    hidden = _wrote(community.bob, "webhook spam here", 2)
    ModerationItem.objects.create(interaction=hidden, text_hash="x", is_hidden=True)
    Member.objects.filter(pk=community.bob.pk).update(is_team=True)
    refresh_engagement()
    response = alice_api.get("/members", **api)
    browser = Client()
    browser.force_login(alice)
    listed = browser.get(reverse("members"), page)
    on_the_page = [m.display_name for m in listed.context["page"].object_list]
    assert names(response) == on_the_page
    assert response.json()["count"] == len(on_the_page)
    if expected is not None:
        assert on_the_page == expected


def test_it_lists_writers_of_a_text_reading_their_ids_once(
    alice_api: Api, community: Community, django_assert_num_queries: AssertNumQueries
) -> None:
    for n, member in enumerate([community.ada, community.bob, community.chloe]):
        _wrote(member, f"webhook number {n}", n)
    alice_api.get("/members")  # the token's last use is recorded once a minute: not below
    # token (1), the writers' ids in order (1), page (1), tags (1), identities (1)
    with django_assert_num_queries(5):
        response = alice_api.get("/members", text="webhook", limit=2, offset=1)
    assert names(response) == ["Bob Builder", "Chloé Martin"]
    assert response.json()["count"] == 3
