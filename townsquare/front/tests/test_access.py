"""Every page needs a signed-in user; logging in and out works through the forms."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

pytestmark = pytest.mark.django_db

# The only pages anyone may open; the admin has its own login and is left to Django, the API
# answers 401/403 in JSON rather than redirecting (townsquare/api/tests/test_auth.py).
PUBLIC = {"login", "logout"}
SKIPPED_NAMESPACES = {"admin", "api"}


def _walk(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[URLPattern]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace in SKIPPED_NAMESPACES:
                continue
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield pattern


def _page_patterns() -> list[URLPattern]:
    return [p for p in _walk(get_resolver().url_patterns) if p.name not in PUBLIC]


def test_it_finds_the_pages_to_check() -> None:
    names = {p.name for p in _page_patterns()}
    assert {"home", "members", "member", "conversations", "conversation", "imports"} <= names


@pytest.mark.parametrize("pattern", _page_patterns(), ids=lambda p: str(p.name))
def test_it_sends_anonymous_users_to_login(client: Client, pattern: URLPattern) -> None:
    kwargs = dict.fromkeys(pattern.pattern.converters, 1)
    url = reverse(str(pattern.name), kwargs=kwargs)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_it_logs_in_through_the_form(client: Client, alice: User) -> None:
    page = client.get(reverse("login")).content.decode()
    assert '<label for="id_username">Username</label>' in page
    assert "csrfmiddlewaretoken" in page
    response = client.post(reverse("login"), {"username": "alice", "password": "password"})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200


def test_it_refuses_a_wrong_password(client: Client, alice: User) -> None:
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert client.get(reverse("home")).status_code == 302


def test_it_returns_to_the_page_asked_for_after_login(client: Client, alice: User) -> None:
    response = client.post(
        reverse("login") + "?next=/members/",
        {"username": "alice", "password": "password", "next": "/members/"},
    )
    assert response["Location"] == "/members/"


def test_it_logs_out_by_post_only(client: Client, alice: User) -> None:
    client.force_login(alice)
    page = client.get(reverse("home")).content.decode()
    assert f'<form method="post" action="{reverse("logout")}">' in page
    assert client.get(reverse("logout")).status_code == 405
    assert client.get(reverse("home")).status_code == 200
    response = client.post(reverse("logout"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("login")
    assert "You are logged out." in response.content.decode()
    assert client.get(reverse("home")).status_code == 302


def test_it_checks_csrf_on_logout(alice: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(reverse("logout")).status_code == 403
    assert client.get(reverse("home")).status_code == 200


def test_it_shows_the_user_and_the_navigation(client: Client, alice: User) -> None:
    client.force_login(alice)
    page = client.get(reverse("members")).content.decode()
    assert '<a class="skip-link" href="#main">' in page
    assert '<span class="nav-user-name">alice</span>' in page
    assert f'<a href="{reverse("members")}" aria-current="page">Members</a>' in page
    assert f'<a href="{reverse("imports")}">Imports</a>' in page
    # Every asset comes from the app itself.
    assert "https://" not in page.split("</head>")[0]
