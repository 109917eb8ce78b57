from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from townsquare.api.services import do_create_token
from townsquare.api.tests.conftest import Api, AssertNumQueries, Community, Talk
from townsquare.care.models import CareItem, CareReason, Rule, RuleAdjustment, Status
from townsquare.care.queue import rerank
from townsquare.care.views import queue_items
from townsquare.community.models import Member, MergeStatus, MergeSuggestion, Touchpoint
from townsquare.lib.testing import make_staff


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    return response.json()


def ids(response: Any) -> list[int]:
    return [i["id"] for i in ok(response)["items"]]


def test_it_lists_open_care_items_with_their_standing_reasons(
    alice_api: Api, community: Community, talk: Talk
) -> None:
    body = ok(alice_api.get("/care-items"))
    assert (body["count"], body["limit"], body["offset"]) == (1, 50, 0)
    [item] = body["items"]
    assert item["id"] == talk.item.pk
    assert item["member"] == {"id": community.ada.pk, "display_name": "Ada Lovelace"}
    assert (item["status"], item["assigned_to"]) == ("open", None)
    # The queue's own ranking: weight 10 × factor 1 × strength 0.8; the newcomer reason went
    # away by itself and is not standing.
    assert item["priority"] == pytest.approx(8.0)
    [reason] = item["reasons"]
    assert (reason["rule"], reason["score"]) == ("unanswered", pytest.approx(8.0))
    assert reason["interaction_id"] == talk.asked.pk
    assert reason["conversation_id"] == talk.question.pk


def test_it_orders_and_filters_care_items_as_the_queue_page(
    alice: User, alice_api: Api, community: Community, talk: Talk
) -> None:
    now = timezone.now()
    for n, (strength, rule) in enumerate([(0.9, Rule.DRIFTING), (0.2, Rule.MILESTONE)]):
        member = Member.objects.create(display_name=f"Member {n}")
        item = CareItem.objects.create(member=member, created_at=now, updated_at=now)
        CareReason.objects.create(
            item=item,
            member=member,
            rule=rule,
            key=f"{rule}:{n}",
            detail="…",
            strength=strength,
            occurred_at=now,
            created_at=now,
        )
        if n == 0:
            item.assigned_to = alice
            item.save()
    rerank(now)
    listed = ids(alice_api.get("/care-items"))
    assert listed == [i.pk for i in queue_items({}, alice)]
    assert len(listed) == 3
    assert ids(alice_api.get("/care-items", min_priority=4)) == listed[:2]
    assert ids(alice_api.get("/care-items", rule="drifting")) == [listed[1]]
    assert ids(alice_api.get("/care-items", rule="newcomer")) == []  # cleared: not standing
    assert ids(alice_api.get("/care-items", assigned_to="me")) == [listed[1]]
    assert ids(alice_api.get("/care-items", assigned_to=alice.pk)) == [listed[1]]
    assert ids(alice_api.get("/care-items", assigned_to="nobody")) == [listed[0], listed[2]]
    assert ids(alice_api.get("/care-items", status="snoozed")) == [talk.quiet_item.pk]
    assert ids(alice_api.get("/care-items", status="closed")) == []
    page = ok(alice_api.get("/care-items", limit=2, offset=2))
    assert ([i["id"] for i in page["items"]], page["count"]) == ([listed[2]], 3)
    for params in ({"status": "expired"}, {"rule": "gossip"}, {"assigned_to": "everyone"}):
        assert alice_api.get("/care-items", **params).status_code == 422, params
    assert alice_api.get("/care-items", min_priority=-1).status_code == 422


def test_it_shows_a_care_item_with_every_reason(alice_api: Api, talk: Talk) -> None:
    body = ok(alice_api.get(f"/care-items/{talk.item.pk}"))
    assert [r["rule"] for r in body["reasons"]] == ["unanswered", "newcomer"]
    assert body["reasons"][1]["cleared_at"] is not None
    assert body["touchpoint"] is None
    response = alice_api.get("/care-items/999999")
    assert (response.status_code, response.json()) == (404, {"detail": "No care item #999999."})


def test_a_manager_resolves_an_item_with_a_touchpoint(
    bob: User, bob_api: Api, community: Community, talk: Talk
) -> None:
    url = f"/care-items/{talk.item.pk}"
    body = ok(
        bob_api.post(
            f"{url}/resolve",
            {
                "what": "Answered her in #help",
                "outcome": "She made the heatmap",
                "channel": "Slack",
            },
        )
    )
    assert (body["status"], body["closed_by"]["username"]) == ("resolved", "bob")
    touchpoint = Touchpoint.objects.get(member=community.ada)
    assert body["touchpoint"]["id"] == body["touchpoint_id"] == touchpoint.pk
    assert (touchpoint.staff, touchpoint.reason, touchpoint.outcome, touchpoint.channel) == (
        bob,
        "Answered her in #help",
        "She made the heatmap",
        "Slack",
    )
    assert touchpoint.interaction == talk.asked  # the strongest reason's message
    # Resolutions raise the rule's learned factor back (docs/care.md): the service ran.
    assert RuleAdjustment.objects.get(rule=Rule.UNANSWERED).resolutions == 1
    again = bob_api.post(f"{url}/resolve", {"what": "Again"})
    assert (again.status_code, again.json()) == (409, {"detail": "This item is already resolved."})
    assert Touchpoint.objects.count() == 1


def test_a_manager_dismisses_assigns_and_snoozes(
    alice: User, bob: User, bob_api: Api, talk: Talk
) -> None:
    url = f"/care-items/{talk.item.pk}"
    assert ok(bob_api.post(f"{url}/assign", {"assignee_id": alice.pk}))["assigned_to"] == {
        "id": alice.pk,
        "username": "alice",
    }
    assert ok(bob_api.post(f"{url}/assign", {"assignee_id": None}))["assigned_to"] is None
    vera = make_staff("vera", role="viewer")
    refused = bob_api.post(f"{url}/assign", {"assignee_id": vera.pk})
    assert (refused.status_code, refused.json()) == (
        422,
        {"detail": f"User #{vera.pk} cannot work the care queue."},
    )
    until = timezone.now() + timedelta(days=3)
    snoozed = ok(bob_api.post(f"{url}/snooze", {"until": until.isoformat()}))
    assert snoozed["status"] == "snoozed"
    past = bob_api.post(f"{url}/snooze", {"until": "2020-01-01T00:00:00Z"})
    assert (past.status_code, past.json()) == (
        422,
        {"detail": "Snooze until a moment in the future."},
    )
    assert bob_api.post(f"{url}/dismiss", {"reason": "   "}).status_code == 422
    assert bob_api.post(f"{url}/dismiss", {}).status_code == 422
    dismissed = ok(bob_api.post(f"{url}/dismiss", {"reason": "She found the answer herself"}))
    assert (dismissed["status"], dismissed["dismiss_reason"]) == (
        "dismissed",
        "She found the answer herself",
    )
    assert RuleAdjustment.objects.get(rule=Rule.UNANSWERED, channel=talk.help).dismissals == 1
    assert bob_api.post(f"{url}/assign", {"assignee_id": bob.pk}).status_code == 409


def test_it_lets_viewers_and_moderators_read_the_queue_but_not_work_it(
    talk: Talk, client: Client
) -> None:
    url = f"/care-items/{talk.item.pk}"
    for role in ("viewer", "moderator"):
        user = make_staff(role, role=role)
        api = Api(Client(), do_create_token(user=user, name=role)[1])
        assert ok(api.get("/care-items"))["count"] == 1
        assert ok(api.get(url))["status"] == "open"
        for action, body in (
            ("assign", {"assignee_id": user.pk}),
            ("snooze", {"until": "2099-01-01T00:00:00Z"}),
            ("resolve", {"what": "x"}),
            ("dismiss", {"reason": "x"}),
        ):
            response = api.post(f"{url}/{action}", body)
            assert (response.status_code, response.json()) == (
                403,
                {"detail": "Only managers and admins can work the care queue."},
            )
        assert api.post("/care-items/999999/dismiss", {"reason": "x"}).status_code == 403
    talk.item.refresh_from_db()
    assert (talk.item.status, talk.item.assigned_to) == (Status.OPEN, None)
    assert client.post(f"/api/v1{url}/dismiss", {"reason": "x"}).status_code == 401


def test_it_lists_care_items_in_the_same_number_of_queries_however_many(
    alice_api: Api, talk: Talk, django_assert_num_queries: AssertNumQueries
) -> None:
    alice_api.get("/care-items")  # the token's last use is recorded once a minute
    # token (1), count (1), page with members and assignees (1), standing reasons (1),
    # their members' open merge suggestions (1)
    with django_assert_num_queries(5):
        assert len(ids(alice_api.get("/care-items"))) == 1
    now = timezone.now()
    for n in range(20):
        member = Member.objects.create(display_name=f"Member {n}")
        item = CareItem.objects.create(member=member, created_at=now, updated_at=now)
        for rule in (Rule.DRIFTING, Rule.HELPER):
            CareReason.objects.create(
                item=item,
                member=member,
                rule=rule,
                key=f"{rule}:{n}",
                detail="…",
                strength=0.5,
                occurred_at=now,
                created_at=now,
            )
    with django_assert_num_queries(5):
        assert len(ids(alice_api.get("/care-items"))) == 21
    # token (1), item with member, people and touchpoint (1), reasons (1), merge suggestions (1)
    with django_assert_num_queries(4):
        ok(alice_api.get(f"/care-items/{talk.item.pk}"))


def test_an_item_names_who_its_member_may_also_be(alice_api: Api, talk: Talk) -> None:
    member = talk.item.member
    [listed] = ok(alice_api.get("/care-items"))["items"]
    assert listed["maybe_also"] == []
    other = Member.objects.create(display_name="Same Person Elsewhere")
    low, high = sorted([member, other], key=lambda m: m.pk)
    suggestion = MergeSuggestion.objects.create(
        member_a=low, member_b=high, confidence=0.7, evidence=["similar display name"]
    )
    expected = [{"id": other.pk, "display_name": "Same Person Elsewhere"}]
    [listed] = ok(alice_api.get("/care-items"))["items"]
    assert listed["maybe_also"] == expected
    assert ok(alice_api.get(f"/care-items/{talk.item.pk}"))["maybe_also"] == expected
    suggestion.status = MergeStatus.REJECTED
    suggestion.save(update_fields=["status"])
    assert ok(alice_api.get(f"/care-items/{talk.item.pk}"))["maybe_also"] == []
