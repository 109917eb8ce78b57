from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from townsquare.api.services import do_create_token
from townsquare.api.tests.conftest import Api, AssertNumQueries, Community, at
from townsquare.community.models import Identity, Interaction, Member, MemberTag
from townsquare.lib.testing import make_staff
from townsquare.segments import services
from townsquare.segments.models import Segment
from townsquare.segments.services import do_save_segment


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    return response.json()


def names(response: Any) -> list[str]:
    return [m["display_name"] for m in ok(response)["items"]]


def problems(response: Any) -> dict[str, str]:
    """A 422's problems, by the filter (or field) they name."""
    assert response.status_code == 422, response.content
    return {str(p["loc"][-1]): p["msg"] for p in response.json()["detail"]}


def test_it_lists_segments_by_name_with_their_filters_and_creator(
    alice: User, alice_api: Api, community: Community
) -> None:
    do_save_segment(name="Speakers", filters={"tag": str(community.speaker.pk)}, actor=alice)
    do_save_segment(name="all on GitHub", filters={"platform": "github"}, actor=None)
    body = ok(alice_api.get("/segments"))
    assert (body["count"], body["limit"], body["offset"]) == (2, 50, 0)
    # Segment.Meta.ordering: by name, as the segments page lists them.
    assert [s["name"] for s in body["items"]] == ["Speakers", "all on GitHub"]
    speakers = body["items"][0]
    assert speakers["filters"] == {"tag": str(community.speaker.pk)}
    assert speakers["created_by"] == {"id": alice.pk, "username": "alice"}
    assert speakers["description"] == ""
    assert speakers["created_at"].endswith("Z")
    assert "member_count" not in speakers  # a query per segment: left to GET /segments/{id}
    assert body["items"][1]["created_by"] is None
    page = ok(alice_api.get("/segments", limit=1, offset=1))
    assert (page["count"], [s["name"] for s in page["items"]]) == (2, ["all on GitHub"])


def test_it_shows_a_segment_with_how_many_members_it_selects_now(
    alice: User, alice_api: Api, community: Community
) -> None:
    tag = community.speaker
    segment = do_save_segment(
        name="Speakers", filters={"tag": str(tag.pk)}, actor=alice, description="Give talks"
    )
    body = ok(alice_api.get(f"/segments/{segment.pk}"))
    assert body["member_count"] == 1
    assert (body["name"], body["description"]) == ("Speakers", "Give talks")
    assert body["created_by"]["username"] == "alice"
    # Dynamic: a member tagged later is in the segment without saving it again.
    MemberTag.objects.create(member=community.bob, tag=tag)
    assert ok(alice_api.get(f"/segments/{segment.pk}"))["member_count"] == 2
    assert names(alice_api.get(f"/segments/{segment.pk}/members")) == [
        "Ada Lovelace",
        "Bob Builder",
    ]


Filters = Callable[[Community], dict[str, Any]]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        # The list's default order: last seen first, never seen last.
        (lambda c: {}, ["Chloé Martin", "Ada Lovelace", "Bob Builder"]),
        (lambda c: {"tag": c.speaker.pk}, ["Ada Lovelace"]),
        (lambda c: {"platform": "github", "sort": "name"}, ["Ada Lovelace", "Chloé Martin"]),
        (lambda c: {"source": c.slack.pk}, ["Ada Lovelace", "Bob Builder"]),
        (lambda c: {"q": "ADA", "merged": True}, ["Ada Lovelace", "Ada Old"]),
        (
            lambda c: {"erased": "on", "sort": "name"},
            ["Ada Lovelace", "Bob Builder", "Chloé Martin", "Erased member"],
        ),
        (
            lambda c: {"first_seen_after": "2024-03-05", "first_seen_before": "2024-03-10"},
            ["Chloé Martin", "Bob Builder"],
        ),
        (lambda c: {"activity": "inactive90", "sort": "interactions"}, None),
        (lambda c: {"bot": "yes"}, []),
        (lambda c: {"bot": "no", "dnc": "no", "team": "no", "sort": "first_seen"}, None),
    ],
)
def test_it_lists_a_segments_members_as_the_member_list_page_does(
    alice: User,
    alice_api: Api,
    community: Community,
    filters: Filters,
    expected: list[str] | None,
) -> None:
    created = ok(alice_api.post("/segments", {"name": "s", "filters": filters(community)}), 201)
    listed = alice_api.get(f"/segments/{created['id']}/members")
    browser = Client()
    browser.force_login(alice)
    page = browser.get(reverse("members"), created["filters"])
    assert page.status_code == 200
    on_the_page = [m.display_name for m in page.context["page"].object_list]
    assert names(listed) == on_the_page
    assert ok(listed)["count"] == created["member_count"] == len(on_the_page)
    if expected is not None:
        assert on_the_page == expected


def test_it_lists_a_segments_members_with_the_member_list_schema(
    alice: User, alice_api: Api, community: Community
) -> None:
    segment = do_save_segment(name="Slack", filters={"source": str(community.slack.pk)}, actor=None)
    listed = ok(alice_api.get(f"/segments/{segment.pk}/members", limit=1, offset=0))
    assert (listed["count"], listed["limit"], listed["offset"]) == (2, 1, 0)
    same = ok(alice_api.get("/members", source=community.slack.pk, limit=1))
    assert listed["items"] == same["items"]
    assert listed["items"][0]["tags"] == ["Speaker"]
    assert [i["handle"] for i in listed["items"][0]["identities"]] == ["ada", "countess"]
    assert names(alice_api.get(f"/segments/{segment.pk}/members", offset=1)) == ["Bob Builder"]


def test_it_saves_a_segment_in_the_list_pages_short_form(
    alice: User, alice_api: Api, community: Community
) -> None:
    body = {
        "name": "  Speakers   on GitHub ",
        "description": " Invite them first \n",
        "filters": {
            "tag": community.speaker.pk,
            "platform": "github",
            "merged": False,
            "erased": True,
            "sort": "last_seen",  # the default: not kept
            "q": "   ",
            "first_seen_after": "2024-03-01",
        },
    }
    created = ok(alice_api.post("/segments", body), 201)
    assert created["name"] == "Speakers on GitHub"
    assert created["description"] == "Invite them first"
    expected = {
        "tag": str(community.speaker.pk),
        "platform": "github",
        "erased": "on",
        "first_seen_after": "2024-03-01",
    }
    assert created["filters"] == expected
    assert created["member_count"] == 1
    assert created["created_by"] == {"id": alice.pk, "username": "alice"}
    segment = Segment.objects.get()
    assert (segment.pk, segment.filters, segment.created_by) == (created["id"], expected, alice)
    # The segments page opens it as the member list with these very filters.
    browser = Client()
    browser.force_login(alice)
    opened = browser.get(reverse("segment", args=[segment.pk]))
    assert opened.status_code == 302
    assert browser.get(opened["Location"]).context["filters"].params() == expected
    everyone = ok(alice_api.post("/segments", {"name": "Everyone"}), 201)
    assert (everyone["filters"], everyone["member_count"]) == ({}, 3)


def test_it_refuses_bad_filters_naming_each(alice_api: Api, community: Community) -> None:
    response = alice_api.post(
        "/segments",
        {
            "name": "Bad",
            "filters": {
                "tag": "speaker",
                "platform": "myspace",
                "colour": "red",
                "first_seen_after": "yesterday",
                "source": 999_999,
                "dnc": True,
                "level": "",
            },
        },
    )
    found = problems(response)
    assert set(found) == {"tag", "platform", "colour", "first_seen_after", "source", "dnc"}
    assert found["tag"] == "Enter a whole number."
    assert "myspace" in found["platform"]
    assert found["colour"].startswith("Not a filter of the member list; those are: q, text,")
    assert found["first_seen_after"] == "Enter a valid date."
    assert found["source"] == "There is no source #999999."
    # Where ninja puts the problems it finds itself: one format for every 422.
    assert all(p["loc"][:3] == ["body", "body", "filters"] for p in response.json()["detail"])
    schema_problem = alice_api.post("/segments", {"name": "ok", "filters": {"tag": [1]}})
    assert schema_problem.json()["detail"][0]["loc"][:4] == ["body", "body", "filters", "tag"]
    channel = {"source": community.slack.pk, "channel": 2**63}
    assert (
        "9223372036854775807"
        in problems(alice_api.post("/segments", {"name": "Bad", "filters": channel}))["channel"]
    )
    channel["channel"] = 999_999
    assert problems(alice_api.post("/segments", {"name": "Bad", "filters": channel})) == {
        "channel": f"There is no channel #999999 in source #{community.slack.pk}."
    }
    bad: list[dict[str, Any]] = [
        {"name": ""},
        {"name": "x" * 101},
        {"name": "a\x00b"},
        {"name": "ok", "filters": {"q": "a\x00b"}},
        {"name": "ok", "filters": {"q": ["list"]}},
        {"name": "ok", "filters": []},
        {"filters": {}},
    ]
    for body in bad:
        assert alice_api.post("/segments", body).status_code == 422, body
    response = alice_api.post("/segments", {"name": "   "})
    assert (response.status_code, response.json()) == (422, {"detail": "A segment needs a name."})
    assert not Segment.objects.exists()


def test_it_reads_extreme_filters_without_crashing(alice: User, alice_api: Api) -> None:
    last_day = ok(
        alice_api.post(
            "/segments",
            {"name": "Any day", "filters": {"first_seen_before": "9999-12-31", "sentiment": ""}},
        ),
        201,
    )
    assert last_day["filters"] == {"first_seen_before": "9999-12-31"}
    # One saved from a query string without the API's checks: its bad value is dropped.
    huge = do_save_segment(name="Huge", filters={"channel": "9" * 30}, actor=alice)
    for segment_id in (last_day["id"], huge.pk):
        ok(alice_api.get(f"/segments/{segment_id}"))
        ok(alice_api.get(f"/segments/{segment_id}/members"))


def test_it_refuses_a_name_already_taken_in_any_letter_case(
    alice_api: Api, community: Community
) -> None:
    first = ok(alice_api.post("/segments", {"name": "Speakers"}), 201)
    again = alice_api.post("/segments", {"name": "  SPEAKERS ", "filters": {"platform": "slack"}})
    assert (again.status_code, again.json()) == (
        409,
        {"detail": "There is already a segment named “SPEAKERS”."},
    )
    other = ok(alice_api.post("/segments", {"name": "Helpers"}), 201)
    assert alice_api.patch(f"/segments/{other['id']}", {"name": "speakers"}).status_code == 409
    # Its own name in another case is no conflict.
    renamed = ok(alice_api.patch(f"/segments/{first['id']}", {"name": "SPEAKERS"}))
    assert renamed["name"] == "SPEAKERS"
    assert sorted(Segment.objects.values_list("name", flat=True)) == ["Helpers", "SPEAKERS"]


def test_it_tells_a_concurrent_save_of_the_same_name_as_a_conflict(
    alice_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok(alice_api.post("/segments", {"name": "Speakers"}), 201)
    checks: list[str] = []
    check = services._check_unique

    def too_late(name: str, *, exclude: int | None = None) -> None:
        # The first check runs before the other request's row exists.
        checks.append(name)
        if len(checks) > 1:
            check(name, exclude=exclude)

    monkeypatch.setattr(services, "_check_unique", too_late)
    response = alice_api.post("/segments", {"name": "Speakers"})
    assert response.status_code == 409, response.content
    assert checks == ["Speakers", "Speakers"]
    assert Segment.objects.count() == 1


def test_it_changes_a_segment(alice_api: Api, community: Community) -> None:
    created = ok(
        alice_api.post(
            "/segments",
            {"name": "Slack", "description": "On Slack", "filters": {"platform": "slack"}},
        ),
        201,
    )
    url = f"/segments/{created['id']}"
    renamed = ok(alice_api.patch(url, {"name": "Slack people"}))
    assert (renamed["name"], renamed["description"]) == ("Slack people", "On Slack")
    described = ok(alice_api.patch(url, {"description": ""}))
    assert (described["name"], described["description"]) == ("Slack people", "")
    assert described["member_count"] == 2
    # Filters are replaced as a whole, not merged.
    refiltered = ok(alice_api.patch(url, {"filters": {"tag": community.speaker.pk}}))
    assert refiltered["filters"] == {"tag": str(community.speaker.pk)}
    assert refiltered["member_count"] == 1
    assert ok(alice_api.patch(url, {})) == refiltered
    # A bad filter changes nothing, not even the name sent with it.
    refused = alice_api.patch(url, {"name": "New", "filters": {"level": "legendary"}})
    assert set(problems(refused)) == {"level"}
    assert ok(alice_api.get(url)) == refiltered
    assert alice_api.patch(url, {"name": " "}).status_code == 422
    assert alice_api.patch(url, {"filters": None}).status_code == 200


def test_it_deletes_a_segment_and_no_member(alice_api: Api, community: Community) -> None:
    created = ok(alice_api.post("/segments", {"name": "Everyone"}), 201)
    url = f"/segments/{created['id']}"
    response = alice_api.delete(url)
    assert (response.status_code, response.content) == (204, b"")
    assert not Segment.objects.exists()
    assert Member.objects.count() == 5
    assert alice_api.get(url).status_code == 404
    assert alice_api.delete(url).status_code == 404


@pytest.mark.usefixtures("community")
def test_it_answers_404_for_a_missing_segment(alice_api: Api) -> None:
    for response in (
        alice_api.get("/segments/999999"),
        alice_api.get("/segments/999999/members"),
        alice_api.patch("/segments/999999", {"name": "x"}),
        alice_api.delete("/segments/999999"),
    ):
        assert (response.status_code, response.json()) == (404, {"detail": "No segment #999999."})
    assert alice_api.get("/segments/99999999999999999999999").status_code == 422
    assert alice_api.get("/segments/0/members").status_code == 422


def every_operation(api: Api, segment_id: int) -> list[Any]:
    url = f"/segments/{segment_id}"
    return [
        api.get("/segments"),
        api.get(url),
        api.get(f"{url}/members"),
        api.post("/segments", {"name": "New"}),
        api.patch(url, {"name": "Changed"}),
        api.delete(url),
    ]


def test_it_refuses_requests_without_a_token_or_from_outsiders(
    alice: User, charlie: User, community: Community
) -> None:
    segment = do_save_segment(name="Speakers", filters={}, actor=alice)
    for response in every_operation(Api(Client(), None), segment.pk):
        assert response.status_code == 401
        assert response.json()["detail"]
    outsider = Api(Client(), do_create_token(user=charlie, name="charlie's")[1])
    for response in every_operation(outsider, segment.pk):
        assert response.status_code == 403
        assert response.json()["detail"]
    assert list(Segment.objects.values_list("name", flat=True)) == ["Speakers"]


def test_it_lets_a_viewer_only_read(alice: User, community: Community) -> None:
    segment = do_save_segment(name="Speakers", filters={}, actor=alice)
    vera = make_staff("vera", role="viewer")
    viewer_api = Api(Client(), do_create_token(user=vera, name="vera's")[1])
    statuses = [r.status_code for r in every_operation(viewer_api, segment.pk)]
    assert statuses == [200, 200, 200, 403, 403, 403]
    assert list(Segment.objects.values_list("name", flat=True)) == ["Speakers"]


def test_it_lists_segments_in_the_same_number_of_queries_however_many(
    alice: User, alice_api: Api, django_assert_num_queries: AssertNumQueries
) -> None:
    for n in range(3):
        do_save_segment(name=f"segment {n}", filters={}, actor=alice)
    alice_api.get("/segments")  # the token's last use is recorded once a minute: not below
    # token (1), count (1), page with creators (1)
    with django_assert_num_queries(3):
        assert ok(alice_api.get("/segments"))["count"] == 3
    other = make_staff("dora")
    for n in range(20):
        do_save_segment(name=f"more {n}", filters={"platform": "slack"}, actor=other)
    with django_assert_num_queries(3):
        assert len(ok(alice_api.get("/segments"))["items"]) == 23


def test_it_lists_a_segments_members_in_the_same_number_of_queries_however_many(
    alice_api: Api, community: Community, django_assert_num_queries: AssertNumQueries
) -> None:
    segment = do_save_segment(
        name="Speakers", filters={"tag": str(community.speaker.pk)}, actor=None
    )
    alice_api.get("/segments")
    # token (1), segment (1), count (1), page (1), identities (1), tags (1)
    with django_assert_num_queries(6):
        assert names(alice_api.get(f"/segments/{segment.pk}/members")) == ["Ada Lovelace"]
    for i in range(20):
        member = Member.objects.create(display_name=f"Member {i}", last_seen_at=at(1))
        Identity.objects.create(source=community.github, member=member, external_id=f"m{i}")
        MemberTag.objects.create(member=member, tag=community.speaker)
    with django_assert_num_queries(6):
        assert len(names(alice_api.get(f"/segments/{segment.pk}/members"))) == 21
    # token (1), segment with its creator (1), count (1)
    with django_assert_num_queries(3):
        assert ok(alice_api.get(f"/segments/{segment.pk}"))["member_count"] == 21


def test_it_pages_a_segment_of_writers_reading_their_ids_once(
    alice_api: Api, community: Community, django_assert_num_queries: AssertNumQueries
) -> None:
    writers = [community.ada, community.bob, community.chloe]
    for n, member in enumerate(writers):
        identity = member.identities.first()
        assert identity is not None
        Interaction.objects.create(
            source=identity.source,
            identity=identity,
            member=member,
            external_id=f"w{n}",
            kind="message",
            text=f"Our WebHook {n} fires twice",
            created_at=at(n + 1),
            imported_at=at(n + 1),
        )
    segment = do_save_segment(name="Hooks", filters={"text": "webhook", "sort": "name"}, actor=None)
    response = alice_api.get(f"/segments/{segment.pk}/members", limit=2)
    first = ok(response)
    assert (first["count"], names(response)) == (3, ["Ada Lovelace", "Bob Builder"])
    # token (1), segment (1), the writers' ids in order (1), page (1), identities (1), tags (1)
    with django_assert_num_queries(6):
        response = alice_api.get(f"/segments/{segment.pk}/members", limit=2, offset=2)
    assert (ok(response)["count"], names(response)) == (3, ["Chloé Martin"])
    assert [i["handle"] for i in first["items"][0]["identities"]] == ["ada", "countess"]
    assert first["items"][0]["tags"] == ["Speaker"]
