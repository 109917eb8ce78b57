"""The merge pages: suggestions, merge and unmerge by hand, marking, the audit log."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from townsquare.community.models import (
    AuditAction,
    AuditEntry,
    Identity,
    Member,
    MergeStatus,
    MergeSuggestion,
    Platform,
    Source,
)
from townsquare.community.resolution import resolve
from townsquare.lib.testing import make_staff

pytestmark = pytest.mark.django_db

AssertNumQueries = Callable[[int], AbstractContextManager[Any]]


def person(source: Source, ext: str, name: str, email: str = "") -> Member:
    member = Member.objects.create(display_name=name)
    Identity.objects.create(
        source=source, member=member, external_id=ext, display_name=name, email=email
    )
    return member


@pytest.fixture
def pairs(db: None) -> list[tuple[Member, Member]]:
    slack = Source.objects.create(name="slack", platform=Platform.SLACK)
    mbox = Source.objects.create(name="list", platform=Platform.MBOX)
    found = [
        (
            person(slack, f"U{n}", f"Person <b>{n}</b> Núñez", f"p{n}@example.org"),
            person(mbox, f"p{n}@example.org", f"person <b>{n}</b> nunez", f"p{n}@example.org"),
        )
        for n in range(15)
    ]
    resolve()
    return found


def test_it_lists_suggestions_with_evidence_escaped(
    alice_client: Client, pairs: list[Any], django_assert_num_queries: AssertNumQueries
) -> None:
    with django_assert_num_queries(4):  # session, user, count, page
        response = alice_client.get(reverse("merges"))
    html = response.content.decode()
    assert html.count("same email, same display name") == 15
    assert "<b>" not in html and "&lt;b&gt;" in html
    assert "96%" in html  # 1 - 0.1 * 0.4


def test_it_accepts_and_rejects(alice_client: Client, pairs: list[Any]) -> None:
    first, second = MergeSuggestion.objects.order_by("id")[:2]
    alice_client.post(reverse("merge_decide", args=[first.pk]), {"decision": "accept"})
    alice_client.post(reverse("merge_decide", args=[second.pk]), {"decision": "reject"})

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == MergeStatus.ACCEPTED
    assert second.status == MergeStatus.REJECTED
    assert Member.objects.filter(merged_into__isnull=False).count() == 1
    resolve()
    second.refresh_from_db()
    assert second.status == MergeStatus.REJECTED
    html = alice_client.get(reverse("merges")).content.decode()
    assert html.count("same email, same display name") == 13


def test_a_members_page_shows_who_they_may_also_be(alice_client: Client, pairs: list[Any]) -> None:
    (a, b), (c, d) = pairs[0], pairs[1]
    html = alice_client.get(reverse("member", args=[b.pk])).content.decode()
    assert "Maybe also" in html
    assert f'href="{reverse("member", args=[a.pk])}"' in html
    assert "same email, same display name" in html and "Person &lt;b&gt;0&lt;/b&gt;" in html
    assert reverse("member", args=[c.pk]) not in html  # another pair's

    # Kept apart from the page: back to it, and the suggestion is gone from it.
    suggestion = MergeSuggestion.objects.get(member_a=a, member_b=b)
    rejected = alice_client.post(
        reverse("merge_decide", args=[suggestion.pk]), {"decision": "reject", "member": b.pk}
    )
    assert rejected["Location"] == reverse("member", args=[b.pk])
    assert "Maybe also" not in alice_client.get(rejected["Location"]).content.decode()

    # Merged from the page: to the member both are now.
    other = MergeSuggestion.objects.get(member_a=c, member_b=d)
    merged = alice_client.post(
        reverse("merge_decide", args=[other.pk]), {"decision": "accept", "member": d.pk}
    )
    d.refresh_from_db()
    assert d.merged_into_id is not None
    assert merged["Location"] == reverse("member", args=[d.merged_into_id])

    # A viewer sees the suggestion, without the buttons to decide it.
    viewer = Client()
    viewer.force_login(make_staff("vera", role="viewer"))
    html = viewer.get(reverse("member", args=[pairs[2][0].pk])).content.decode()
    assert "Maybe also" in html
    assert (
        reverse("merge_decide", args=[MergeSuggestion.objects.get(member_a=pairs[2][0]).pk])
        not in html
    )


def test_it_forbids_decisions_to_non_staff(client: Client, charlie: User, pairs: list[Any]) -> None:
    client.force_login(charlie)
    suggestion = MergeSuggestion.objects.first()
    assert suggestion is not None
    response = client.post(reverse("merge_decide", args=[suggestion.pk]), {"decision": "accept"})
    assert response.status_code == 403
    assert client.get(reverse("member_audit")).status_code == 403
    assert not Member.objects.filter(merged_into__isnull=False).exists()


def test_it_merges_by_hand_and_redirects_the_merged_member(
    alice_client: Client, pairs: list[Any]
) -> None:
    a, b = pairs[0]
    search = alice_client.get(reverse("member_merge", args=[a.pk]), {"q": "nunez"})
    assert reverse("member_merge_confirm", args=[a.pk, b.pk]) in search.content.decode()

    response = alice_client.post(
        reverse("member_merge_confirm", args=[a.pk, b.pk]), {"reason": "checked"}
    )

    assert response.status_code == 302
    b.refresh_from_db()
    assert b.merged_into_id == a.pk
    page = alice_client.get(reverse("member", args=[b.pk]))
    assert page.status_code == 302
    assert page["Location"] == reverse("member", args=[a.pk])
    html = alice_client.get(reverse("member", args=[a.pk])).content.decode()
    assert reverse("member_unmerge", args=[b.pk]) in html
    entry = AuditEntry.objects.get()
    assert entry.reason == "checked"


def test_it_unmerges_from_the_member_page(alice_client: Client, pairs: list[Any]) -> None:
    a, b = pairs[0]
    alice_client.post(reverse("member_merge_confirm", args=[a.pk, b.pk]), {"reason": "x"})

    alice_client.post(reverse("member_unmerge", args=[b.pk]))

    b.refresh_from_db()
    assert b.merged_into_id is None
    assert Identity.objects.get(member=b).source.name == "list"
    actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert actions == [AuditAction.UNMERGE, AuditAction.MERGE]
    html = alice_client.get(reverse("member_audit")).content.decode()
    assert "Unmerge" in html and "alice" in html


def test_it_marks_a_member(alice_client: Client, pairs: list[Any]) -> None:
    a, _ = pairs[0]
    alice_client.post(reverse("member_mark", args=[a.pk]), {"mark": "is_bot", "value": "on"})
    a.refresh_from_db()
    assert a.is_bot
    html = alice_client.get(reverse("member", args=[a.pk])).content.decode()
    assert "Unmark as bot" in html
    assert AuditEntry.objects.get().action == AuditAction.MARK


def test_it_pins_the_audit_log_queries(
    alice_client: Client, pairs: list[Any], django_assert_num_queries: AssertNumQueries
) -> None:
    for a, b in pairs[:10]:
        alice_client.post(reverse("member_merge_confirm", args=[a.pk, b.pk]), {"reason": "x"})
    with django_assert_num_queries(5):  # session, user, count, page, member names
        response = alice_client.get(reverse("member_audit"))
    assert response.content.decode().count("<tr>") == 11
