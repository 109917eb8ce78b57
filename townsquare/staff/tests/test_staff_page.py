"""The staff page: admins see every user with their role, change roles, deactivate accounts and
add staff; every change is recorded and shown."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from townsquare.staff.models import Role, StaffChange
from townsquare.staff.roles import role_of

pytestmark = pytest.mark.django_db

AssertNumQueries = Callable[[int], AbstractContextManager[Any]]
STAFF = "/staff/"


def _page(client: Client) -> str:
    response = client.get(STAFF)
    assert response.status_code == 200
    return response.content.decode()


def test_it_lists_every_user_with_their_role(
    alice_client: Client, alice: User, bob: User, vera: User, oscar: User
) -> None:
    User.objects.filter(pk=vera.pk).update(is_active=False)
    page = _page(alice_client)
    assert reverse("staff") == STAFF
    assert '<span class="marker">Superuser</span>' in page
    assert '<span class="status">Manager</span>' in page
    assert '<span class="status status-interrupted">No role</span>' in page
    assert '<span class="status status-failed">Inactive</span>' in page
    assert f'<tr id="user-{vera.pk}" class="staff-inactive">' in page
    assert "bob@example.org" in page
    # Alice has logged in (force_login), the others never.
    alice_row = page.split(f'<tr id="user-{alice.pk}"')[1].split("</tr>")[0]
    assert "<time datetime=" in alice_row
    assert page.count('<span class="muted">Never</span>') == 3
    # An admin cannot deactivate herself; everyone else can be.
    assert '<span class="muted">You</span>' in page
    assert page.count(">Deactivate<") == 2 and page.count(">Reactivate<") == 1


def test_it_lists_the_staff_in_a_fixed_number_of_queries(
    alice_client: Client, django_assert_num_queries: AssertNumQueries
) -> None:
    for n in range(20):
        User.objects.create_user(f"user{n}")
    with django_assert_num_queries(4):  # session, user, the users with roles, the changes
        _page(alice_client)


def test_it_is_for_admins_only(client: Client, bob: User, ada: User) -> None:
    assert client.get(STAFF).status_code == 302
    client.force_login(bob)
    assert client.get(STAFF).status_code == 403
    assert f'href="{STAFF}"' not in client.get(reverse("terms")).content.decode()
    client.force_login(ada)
    assert client.get(STAFF).status_code == 200
    nav = client.get(reverse("terms")).content.decode().split("</nav>")[0]
    assert f'<li><a href="{STAFF}">Staff</a></li>' in nav


def test_it_changes_a_role_and_records_it(alice_client: Client, alice: User, bob: User) -> None:
    response = alice_client.post(f"/staff/{bob.pk}/role/", {"role": "moderator"}, follow=True)
    assert response.redirect_chain == [(STAFF, 302)]
    assert "bob&#x27;s role is now Moderator." in response.content.decode()
    bob.refresh_from_db()
    assert role_of(bob) == Role.MODERATOR
    change = StaffChange.objects.get()
    assert (change.by, change.by_name, change.user, change.action) == (alice, "alice", bob, "role")
    assert (change.before, change.after) == ("manager", "moderator")
    assert "role manager → moderator" in response.content.decode()


def test_it_takes_a_role_away(alice_client: Client, bob: User) -> None:
    response = alice_client.post(f"/staff/{bob.pk}/role/", {"role": ""}, follow=True)
    assert "Took bob&#x27;s role away" in response.content.decode()
    bob.refresh_from_db()
    assert role_of(bob) is None
    assert StaffChange.objects.get().summary == "role manager → none"
    # Saving the same role again records nothing.
    alice_client.post(f"/staff/{bob.pk}/role/", {"role": ""})
    assert StaffChange.objects.count() == 1


def test_it_refuses_to_demote_the_last_admin(client: Client, ada: User) -> None:
    client.force_login(ada)
    response = client.post(f"/staff/{ada.pk}/role/", {"role": "manager"})
    assert response.status_code == 400
    page = response.content.decode()
    assert (
        '<div class="form-errors" role="alert"><p>ada is the last admin: name another admin '
        "first.</p></div>" in page
    )
    assert f'aria-describedby="role-error-{ada.pk}"' in page
    ada.refresh_from_db()
    assert role_of(ada) == Role.ADMIN
    assert not StaffChange.objects.exists()


def test_it_refuses_an_unknown_role_and_a_superuser(
    alice_client: Client, alice: User, bob: User
) -> None:
    response = alice_client.post(f"/staff/{bob.pk}/role/", {"role": "owner"})
    assert response.status_code == 400
    assert "Choose one of the roles." in response.content.decode()
    response = alice_client.post(f"/staff/{alice.pk}/role/", {"role": "viewer"})
    assert response.status_code == 400
    assert "alice is a superuser, and so always an admin" in response.content.decode()
    assert alice_client.post("/staff/999999/role/", {"role": "viewer"}).status_code == 404


def test_it_deactivates_and_reactivates_an_account(client: Client, alice: User, bob: User) -> None:
    bob_client = Client()
    bob_client.force_login(bob)
    assert bob_client.get(reverse("terms")).status_code == 200
    client.force_login(alice)

    response = client.post(f"/staff/{bob.pk}/active/", {"active": "0"}, follow=True)
    assert "Deactivated bob: they can no longer log in" in response.content.decode()
    bob.refresh_from_db()
    assert not bob.is_active
    # Bob's open session ends with it.
    assert bob_client.get(reverse("terms")).status_code == 302

    client.post(f"/staff/{bob.pk}/active/", {"active": "1"})
    bob.refresh_from_db()
    assert bob.is_active and role_of(bob) == Role.MANAGER
    assert [c.summary for c in StaffChange.objects.order_by("id")] == [
        "deactivated",
        "reactivated",
    ]


def test_it_refuses_to_deactivate_yourself(client: Client, ada: User) -> None:
    client.force_login(ada)
    response = client.post(f"/staff/{ada.pk}/active/", {"active": "0"})
    assert response.status_code == 400
    assert "You cannot deactivate your own account." in response.content.decode()
    ada.refresh_from_db()
    assert ada.is_active


def test_it_adds_a_staff_member(alice_client: Client) -> None:
    data = {
        "username": "maya",
        "email": "maya@example.org",
        "role": "moderator",
        "password1": "quiet-harbour-42",
        "password2": "quiet-harbour-42",
    }
    response = alice_client.post("/staff/add/", data, follow=True)
    assert response.redirect_chain == [(STAFF, 302)]
    assert "Added maya as Moderator." in response.content.decode()
    maya = User.objects.get(username="maya")
    assert maya.email == "maya@example.org" and maya.check_password("quiet-harbour-42")
    assert role_of(maya) == Role.MODERATOR
    assert StaffChange.objects.get().summary == "added as moderator"
    assert (
        Client()
        .post(reverse("login"), {"username": "maya", "password": "quiet-harbour-42"})
        .status_code
        == 302
    )


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"password2": "something-else-9"}, "The two password fields didn’t match."),
        ({"password1": "abc", "password2": "abc"}, "This password is too short."),
        ({"password1": "password123", "password2": "password123"}, "too common"),
        (
            {
                "username": "harbourmaster",
                "password1": "harbourmaster1",
                "password2": "harbourmaster1",
            },
            "too similar to the username",
        ),
        ({"username": "BOB"}, "A user with that username already exists."),
        ({"username": ""}, "This field is required."),
        ({"role": "owner"}, "Select a valid choice."),
    ],
)
def test_it_checks_a_new_staff_member(
    alice_client: Client, bob: User, change: dict[str, str], error: str
) -> None:
    data = {
        "username": "maya",
        "email": "",
        "role": "viewer",
        "password1": "quiet-harbour-42",
        "password2": "quiet-harbour-42",
        **change,
    }
    response = alice_client.post("/staff/add/", data)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not User.objects.exclude(username__in=["alice", "bob"]).exists()
    assert not StaffChange.objects.exists()
