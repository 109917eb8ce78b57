"""`townsquare staff list|add|role|remove`."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError

from townsquare.staff.models import Role, StaffChange
from townsquare.staff.roles import role_of

pytestmark = pytest.mark.django_db


def _staff(*args: str) -> str:
    out = StringIO()
    call_command("staff", *args, stdout=out)
    return out.getvalue()


def _refused(*args: str) -> str:
    with pytest.raises(CommandError) as caught:
        _staff(*args)
    assert caught.value.returncode == 2
    return str(caught.value)


def test_it_lists_every_user_with_their_role(alice: User, bob: User, oscar: User) -> None:
    User.objects.filter(pk=bob.pk).update(is_active=False)
    lines = _staff("list").splitlines()
    assert lines == [
        "alice <alice@example.org>: admin, superuser; last login never",
        "bob <bob@example.org>: manager, inactive; last login never",
        "oscar <oscar@example.org>: no role; last login never",
    ]


def test_it_says_how_to_add_the_first_user() -> None:
    assert _staff("list") == "No users. Add one: townsquare staff add USERNAME --role ROLE\n"


def test_it_adds_a_staff_member_without_a_password() -> None:
    out = _staff("add", "maya", "--role", "moderator", "--email", "maya@example.org")
    assert out == (
        "Added maya as moderator.\n"
        "They cannot log in until they have a password: townsquare changepassword maya\n"
    )
    maya = User.objects.get(username="maya")
    assert maya.email == "maya@example.org" and not maya.has_usable_password()
    assert role_of(maya) == Role.MODERATOR
    change = StaffChange.objects.get()
    assert (change.by, change.by_name, change.summary) == (None, "", "added as moderator")


def test_it_refuses_a_bad_new_staff_member(bob: User) -> None:
    assert _refused("add", "maya", "--role", "owner") == (
        "unknown role 'owner': expected one of viewer, moderator, manager, admin"
    )
    assert _refused("add", "BOB", "--role", "viewer") == "There is already a user named BOB."
    assert not User.objects.exclude(pk=bob.pk).exists()


def test_it_changes_and_takes_away_a_role(bob: User) -> None:
    assert _staff("role", "bob", "viewer") == "bob is now viewer.\n"
    bob.refresh_from_db()
    assert role_of(bob) == Role.VIEWER
    assert _staff("remove", "bob") == "Took bob's role away: they see nothing until given one.\n"
    bob.refresh_from_db()
    assert role_of(bob) is None
    assert [c.summary for c in StaffChange.objects.order_by("id")] == [
        "role manager → viewer",
        "role viewer → none",
    ]


def test_it_refuses_bad_role_changes(alice: User, ada: User) -> None:
    assert _refused("role", "nobody", "viewer") == "no user named 'nobody'"
    assert _refused("remove", "nobody") == "no user named 'nobody'"
    assert _refused("role", "ada", "boss").startswith("unknown role 'boss'")
    assert _refused("role", "alice", "viewer").startswith("alice is a superuser")
    # Alice is a superuser, so Ada is not the last admin: deactivate Alice to make her so.
    User.objects.filter(pk=alice.pk).update(is_active=False)
    assert _refused("remove", "ada") == "ada is the last admin: name another admin first."
    assert role_of(ada) == Role.ADMIN
    assert not StaffChange.objects.exists()
