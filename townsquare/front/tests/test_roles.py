"""Roles on every page: a user without a role sees nothing, a viewer reads but changes nothing,
and each page's own check names the role it needs."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, reverse

from townsquare.front.access import can_read
from townsquare.front.tests.test_access import _page_patterns
from townsquare.lib.testing import make_staff
from townsquare.staff.models import Role, StaffRole
from townsquare.staff.roles import has_role, role_of

pytestmark = pytest.mark.django_db


# The model whose first row fills each URL parameter, so that a write reaches the view's own
# role check rather than stopping at a 404.
PARAMETER_MODELS = {
    "member_id": "community.Member",
    "other_id": "community.Member",
    "conversation_id": "community.Conversation",
    "interaction_id": "community.Interaction",
    "run_id": "connectors.ImportRun",
    "upload_id": "connectors.Upload",
}


def _url(pattern: URLPattern) -> str:
    kwargs: dict[str, int] = {}
    for name in pattern.pattern.converters:
        model = PARAMETER_MODELS.get(name)
        first = apps.get_model(model).objects.order_by("pk").first() if model else None
        kwargs[name] = first.pk if first is not None else 1
    return reverse(str(pattern.name), kwargs=kwargs)


def _row_counts() -> dict[str, int]:
    # Sessions change on every request; everything else must stay as it was.
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.label not in {"sessions.Session"} and model._meta.managed
    }


def test_every_page_checks_a_role() -> None:
    unchecked = [str(p.name) for p in _page_patterns() if not hasattr(p.callback, "requires")]
    assert unchecked == []


@pytest.mark.parametrize("pattern", _page_patterns(), ids=lambda p: str(p.name))
def test_a_user_without_a_role_sees_nothing(
    client: Client, outsider: User, pattern: URLPattern
) -> None:
    client.force_login(outsider)
    assert client.get(_url(pattern)).status_code == 403
    assert client.post(_url(pattern)).status_code == 403


@pytest.mark.parametrize("pattern", _page_patterns(), ids=lambda p: str(p.name))
def test_a_viewer_changes_nothing(
    client: Client, charlie: User, pattern: URLPattern, labelled: Any
) -> None:
    client.force_login(charlie)
    before = _row_counts()
    response = client.post(_url(pattern), {"name": "x", "text": "x", "reason": "x"})
    assert response.status_code in {403, 404, 405}, response.status_code
    assert _row_counts() == before


def test_the_forbidden_page_says_what_is_missing(client: Client, charlie: User) -> None:
    client.force_login(charlie)
    response = client.post(reverse("terms"), {"term": "x"})
    assert response.status_code == 403
    assert "Only managers and admins can add tracked terms." in response.content.decode()


def test_the_forbidden_page_tells_a_user_without_a_role_to_ask_an_admin(
    client: Client, outsider: User
) -> None:
    client.force_login(outsider)
    response = client.get(reverse("home"))
    assert response.status_code == 403
    assert "no staff role yet" in response.content.decode()


def test_roles_are_ordered() -> None:
    viewer = make_staff("vera", role=Role.VIEWER)
    moderator = make_staff("mo", role=Role.MODERATOR)
    manager = make_staff("bob")
    admin = make_staff("alice", superuser=True)
    assert [role_of(u) for u in (viewer, moderator, manager, admin)] == list(Role)
    assert has_role(moderator, Role.VIEWER) and not has_role(moderator, Role.MANAGER)
    assert has_role(admin, Role.ADMIN) and not has_role(manager, Role.ADMIN)


def test_an_inactive_user_has_no_role() -> None:
    manager = make_staff("bob")
    manager.is_active = False
    manager.save()
    assert role_of(manager) is None
    assert not can_read(manager)


def test_a_role_is_read_once_per_request(django_assert_num_queries: Any) -> None:
    make_staff("bob")
    user = User.objects.get(username="bob")
    with django_assert_num_queries(1):
        assert has_role(user, Role.MANAGER)
        assert has_role(user, Role.VIEWER)
    assert StaffRole.objects.get(user=user).role == Role.MANAGER
