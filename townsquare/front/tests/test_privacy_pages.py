"""The member page's "Export data" and "Erase…": staff only, POST only, erasure confirmed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from townsquare.community.models import AuditAction, AuditEntry, Identity, Member
from townsquare.community.tests.test_privacy import EMAIL, NAME, PHRASE, quokka


@pytest.fixture
def person(tmp_path: Path, alice: User) -> Member:
    return quokka(tmp_path, alice)


def test_it_downloads_everything_about_a_member_as_json(
    alice_client: Client, person: Member, django_assert_num_queries: Any
) -> None:
    url = reverse("member_export", args=[person.pk])
    # Session and user; the member, its merge root and the members merged into it (one query
    # per level of merges); one read per kind of data, whatever the number of rows; the audit
    # entry.
    with django_assert_num_queries(19):
        response = alice_client.post(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="member-{person.pk}.json"'
    assert response["Cache-Control"] == "no-store"
    data = json.loads(response.content)
    assert data["member"]["display_name"] == NAME
    assert {i["email"] for i in data["identities"]} == {EMAIL}
    assert PHRASE in {i["text"] for i in data["interactions"]}
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert entry.actor is not None and entry.actor.username == "alice"


def test_it_exports_on_post_only(alice_client: Client, person: Member) -> None:
    response = alice_client.get(reverse("member_export", args=[person.pk]))

    assert response.status_code == 405
    assert not AuditEntry.objects.filter(action=AuditAction.EXPORT).exists()


def test_it_refuses_export_and_erasure_to_non_staff(
    client: Client, charlie: User, person: Member
) -> None:
    client.force_login(charlie)

    assert client.post(reverse("member_export", args=[person.pk])).status_code == 403
    assert client.get(reverse("member_erase", args=[person.pk])).status_code == 403
    response = client.post(reverse("member_erase", args=[person.pk]), {"confirm": "ERASE"})
    assert response.status_code == 403
    person.refresh_from_db()
    assert person.erased_at is None
    assert not AuditEntry.objects.filter(action__in=[AuditAction.EXPORT, AuditAction.ERASE])


def test_it_sends_visitors_to_the_login_page(client: Client, person: Member) -> None:
    response = client.get(reverse("member_erase", args=[person.pk]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_shows_the_actions_to_staff_only(
    alice_client: Client, client: Client, charlie: User, person: Member
) -> None:
    page = alice_client.get(reverse("member", args=[person.pk])).content.decode()
    assert reverse("member_export", args=[person.pk]) in page
    assert reverse("member_erase", args=[person.pk]) in page

    client.force_login(charlie)
    page = client.get(reverse("member", args=[person.pk])).content.decode()
    assert reverse("member_export", args=[person.pk]) not in page
    assert reverse("member_erase", args=[person.pk]) not in page


def test_it_asks_to_confirm_an_erasure(
    alice_client: Client, person: Member, django_assert_num_queries: Any
) -> None:
    # Session and user, the member, the count of members merged into it.
    with django_assert_num_queries(4):
        response = alice_client.get(reverse("member_erase", args=[person.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert f"Erase member #{person.pk}" in page
    assert 'name="confirm"' in page
    assert "csrfmiddlewaretoken" in page
    assert "merged into them" in page


def test_it_refuses_a_wrong_confirmation(alice_client: Client, person: Member) -> None:
    response = alice_client.post(
        reverse("member_erase", args=[person.pk]), {"confirm": "erase", "reason": "asked"}
    )

    assert response.status_code == 400
    assert f"Type {person.pk} or ERASE exactly" in response.content.decode()
    person.refresh_from_db()
    assert (person.display_name, person.erased_at) == (NAME, None)


@pytest.mark.parametrize("typed", ["id", "ERASE"])
def test_it_erases_once_confirmed(alice_client: Client, person: Member, typed: str) -> None:
    confirm = str(person.pk) if typed == "id" else "ERASE"

    response = alice_client.post(
        reverse("member_erase", args=[person.pk]),
        {"confirm": confirm, "reason": f"{NAME} wrote to us"},
        follow=True,
    )

    assert response.redirect_chain == [(reverse("member", args=[person.pk]), 302)]
    page = response.content.decode()
    assert f"Member #{person.pk}, with the 1 merged into it erased" in page
    assert NAME not in page
    assert PHRASE not in page
    person.refresh_from_db()
    assert person.display_name == f"Erased member #{person.pk}"
    assert not Identity.objects.filter(member=person).exclude(email="").exists()
    entry = AuditEntry.objects.get(action=AuditAction.ERASE)
    assert entry.reason == "[erased] wrote to us"
    assert entry.actor is not None and entry.actor.username == "alice"


def test_it_escapes_the_members_name(alice_client: Client, person: Member) -> None:
    person.display_name = "<script>alert(1)</script>"
    person.save()

    page = alice_client.get(reverse("member_erase", args=[person.pk])).content.decode()

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
