"""The care queue's pages and Today: what people see, what each role may do."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from townsquare.care.models import CareItem, CareReason, RuleSetting, Status
from townsquare.care.queue import refresh_queue
from townsquare.care.tests.conftest import NOW, Town
from townsquare.care.today import MergeHint
from townsquare.community.models import Member, MergeStatus, MergeSuggestion, Touchpoint
from townsquare.lib.testing import make_staff


@pytest.fixture
def queued(town: Town) -> Town:
    refresh_queue(NOW)
    return town


@pytest.fixture
def manager_client(client: Client, db: None) -> Client:
    client.force_login(make_staff("bob"))
    return client


def test_the_queue_lists_items_by_priority_with_their_reasons(
    manager_client: Client, queued: Town
) -> None:
    page = manager_client.get(reverse("care")).content.decode()
    ranked = list(CareItem.objects.filter(status=Status.OPEN).order_by("-priority", "id"))
    positions = [page.index(reverse("care_item", args=[item.pk])) for item in ranked]
    assert positions == sorted(positions)
    assert "unusual for them" in page
    assert "Unanswered question" in page


def test_the_queue_filters_by_rule(manager_client: Client, queued: Town) -> None:
    page = manager_client.get(reverse("care"), {"rule": "drifting"}).content.decode()
    dan = queued.member("dan")
    assert dan.display_name in page
    assert queued.member("eve").display_name not in page


def test_an_item_shows_the_member_context_and_the_message(
    manager_client: Client, queued: Town
) -> None:
    item = CareItem.objects.get(member=queued.member("bob"))
    page = manager_client.get(reverse("care_item", args=[item.pk])).content.decode()
    assert "How do I configure the legend position" in page
    assert "Resolve" in page and "Snooze" in page and "Dismiss" in page
    assert reverse("member", args=[item.member_id]) in page


def test_a_manager_resolves_an_item_and_finds_the_touchpoint_on_the_profile(
    manager_client: Client, queued: Town
) -> None:
    item = CareItem.objects.get(member=queued.member("cleo"))
    response = manager_client.post(
        reverse("care_resolve", args=[item.pk]),
        {"what": "Welcomed Cleo by DM", "outcome": "She joined #help", "channel": "Slack"},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == Status.RESOLVED
    assert Touchpoint.objects.filter(member=item.member, reason="Welcomed Cleo by DM").exists()
    profile = manager_client.get(reverse("member", args=[item.member_id])).content.decode()
    assert "Welcomed Cleo by DM" in profile


def test_a_resolution_needs_to_say_what_was_done(manager_client: Client, queued: Town) -> None:
    item = CareItem.objects.get(member=queued.member("cleo"))
    response = manager_client.post(reverse("care_resolve", args=[item.pk]), {"what": ""})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    item.refresh_from_db()
    assert item.status == Status.OPEN


def test_a_viewer_reads_but_cannot_act(client: Client, queued: Town) -> None:
    client.force_login(make_staff("vera", role="viewer"))
    item = CareItem.objects.get(member=queued.member("cleo"))
    page = client.get(reverse("care_item", args=[item.pk])).content.decode()
    assert "Why they need a touch" in page
    assert 'action="/care/' not in page
    for name in ("care_resolve", "care_dismiss", "care_snooze", "care_assign"):
        assert client.post(reverse(name, args=[item.pk]), {"what": "x"}).status_code == 403
    item.refresh_from_db()
    assert item.status == Status.OPEN


def test_assign_to_me(manager_client: Client, queued: Town) -> None:
    item = CareItem.objects.get(member=queued.member("dan"))
    manager_client.post(reverse("care_assign", args=[item.pk]), {"assignee": "me"})
    item.refresh_from_db()
    assert item.assigned_to is not None and item.assigned_to.username == "bob"
    mine = manager_client.get(reverse("care"), {"who": "me"}).content.decode()
    assert item.member.display_name in mine


def test_the_queue_page_costs_the_same_queries_however_long(
    manager_client: Client, queued: Town, django_assert_max_num_queries: Any
) -> None:
    manager_client.get(reverse("care"))
    # session, user and role, count, page of items with members and assignees, reasons, open
    # merge suggestions of their members, total
    with django_assert_max_num_queries(9):
        manager_client.get(reverse("care"))


def test_settings_change_weights_and_rerank(manager_client: Client, queued: Town) -> None:
    eve_reason = CareReason.objects.get(member=queued.member("eve"), rule="language")
    before = eve_reason.score
    response = manager_client.post(
        reverse("care_settings"),
        {
            "default_sla_hours": 24,
            "business_day_start": 9,
            "business_day_end": 17,
            "business_weekdays": "0,1,2,3,4",
            "weight_language": "12",
            "enabled_language": "on",
        },
    )
    assert response.status_code == 302
    assert RuleSetting.objects.get(rule="language").weight == 12
    eve_reason.refresh_from_db()
    assert eve_reason.score == pytest.approx(before * 2)


def test_today_shows_who_to_reach_first_and_the_waiting_questions(
    manager_client: Client, queued: Town
) -> None:
    page = manager_client.get(reverse("home")).content.decode()
    assert "Reach out first" in page
    top = CareItem.objects.filter(status=Status.OPEN).order_by("-priority").first()
    assert top is not None and top.member.display_name in page
    assert "awaiting a reply" in page
    assert "Since yesterday" in page


def test_today_and_the_queue_show_who_a_member_may_also_be(
    manager_client: Client, queued: Town
) -> None:
    dan, ada = queued.member("dan"), queued.member("ada")
    low, high = sorted([dan, ada], key=lambda m: m.pk)
    suggestion = MergeSuggestion.objects.create(
        member_a=low, member_b=high, confidence=0.6, evidence=["similar display name"]
    )
    for url in (reverse("home"), reverse("care")):
        page = manager_client.get(url).content.decode()
        hints = re.findall(
            r'<p class="care-also muted">Maybe the same person as 1 other member \((.+?)\):'
            r'.*?<a href="/members/(\d+)/">their page</a>',
            page,
        )
        # Each one's item names the other, and sends to its own member's page to decide.
        assert sorted(hints) == sorted(
            [(ada.display_name, str(dan.pk)), (dan.display_name, str(ada.pk))]
        ), url
    # And on the item's own page, where the touch is logged.
    dans = CareItem.objects.get(member=dan)
    page = manager_client.get(reverse("care_item", args=[dans.pk])).content.decode()
    assert f"Maybe the same person as 1 other member ({ada.display_name})" in page
    suggestion.status = MergeStatus.REJECTED
    suggestion.save(update_fields=["status"])
    assert "care-also" not in manager_client.get(reverse("home")).content.decode()
    page = manager_client.get(reverse("care_item", args=[dans.pk])).content.decode()
    assert "care-also" not in page


def test_a_hint_names_a_name_borne_by_several_members_once() -> None:
    item = CareItem(pk=1, member=Member(pk=1, display_name="Zoë"))
    item.standing = []  # type: ignore[attr-defined]
    html = render_to_string("care/_item.html", {"item": item, "most": ":3"})
    assert "care-also" not in html
    zoes = [Member(display_name=name) for name in ("Zoë Murphy", "Zoe M.", "Zoë Murphy")]
    item.merge_hint = MergeHint(zoes)  # type: ignore[attr-defined]
    html = render_to_string("care/_item.html", {"item": item, "most": ":3"})
    assert "Maybe the same person as 3 other members (Zoë Murphy ×2, Zoe M.)" in html


def test_the_queue_shows_reasons_that_say_the_same_once_with_their_number(
    manager_client: Client, queued: Town
) -> None:
    item = CareItem.objects.get(member=queued.member("bob"))
    detail = "A message in #help is waiting for a moderator (toxicity)."
    for n in range(3):
        CareReason.objects.create(
            item=item,
            member=item.member,
            rule="moderation",
            key=f"moderation:test{n}",
            detail=detail,
            strength=1.0,
            score=1.0,
            occurred_at=NOW,
            created_at=NOW,
        )
    page = manager_client.get(reverse("care")).content.decode()
    assert page.count(detail) == 1
    assert 'title="3 reasons say this">× 3</span>' in page
    # The item's own page still lists each one, with its message.
    full = manager_client.get(reverse("care_item", args=[item.pk])).content.decode()
    assert full.count(detail) == 3
