from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from django.utils.crypto import get_random_string

from townsquare.api.models import ApiToken
from townsquare.api.services import do_create_token, do_revoke_token
from townsquare.api.tests.conftest import BASE, Api, Community


def assert_refused(response: Any, status: int) -> None:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]


@pytest.mark.usefixtures("community")
def test_it_answers_a_valid_token(alice_api: Api) -> None:
    response = alice_api.get("/members")
    assert response.status_code == 200
    assert response.json()["count"] == 3


@pytest.mark.usefixtures("community")
def test_it_refuses_a_request_without_a_token(client: Client) -> None:
    assert_refused(client.get(f"{BASE}/members"), 401)
    assert_refused(
        client.post(f"{BASE}/members/1/notes", {"text": "x"}, content_type="application/json"),
        401,
    )


@pytest.mark.usefixtures("community", "alice_key")
def test_it_refuses_a_bad_token_without_echoing_it(client: Client) -> None:
    for header in ("Bearer tsq_not-a-real-key", "Token tsq_not-a-real-key", "Bearer ", "Bearer"):
        response = client.get(f"{BASE}/members", headers={"Authorization": header})
        assert_refused(response, 401)
        assert b"not-a-real-key" not in response.content


def test_it_refuses_a_revoked_token(alice: User) -> None:
    token, key = do_create_token(user=alice, name="old script")
    assert Api(Client(), key).get("/members").status_code == 200
    do_revoke_token(token=token)
    assert_refused(Api(Client(), key).get("/members"), 401)


def test_it_refuses_the_token_of_a_user_who_is_not_staff(charlie: User) -> None:
    key = do_create_token(user=charlie, name="charlie's")[1]
    assert_refused(Api(Client(), key).get("/members"), 403)
    assert_refused(Api(Client(), key).post("/members/1/notes", {"text": "hi"}), 403)


def test_it_refuses_the_token_of_an_inactive_user(bob: User) -> None:
    key = do_create_token(user=bob, name="bob's")[1]
    bob.is_active = False
    bob.save()
    assert_refused(Api(Client(), key).get("/members"), 401)


def test_it_keeps_only_a_digest_of_the_key(alice: User) -> None:
    token, key = do_create_token(user=alice, name="digest")
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key.startswith(stored.prefix) and len(stored.prefix) < len(key) // 3
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert all(key not in str(value) for value in row.values())


def test_it_records_when_a_token_was_last_used_at_most_once_a_minute(alice: User) -> None:
    token, key = do_create_token(user=alice, name="usage")
    api = Api(Client(), key)
    assert token.last_used_at is None
    api.get("/members")
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None and timezone.now() - first < timedelta(seconds=5)
    api.get("/members")
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first
    earlier = first - timedelta(minutes=2)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=earlier)
    api.get("/members")
    latest = ApiToken.objects.get(pk=token.pk).last_used_at
    assert latest is not None and latest > first


@pytest.mark.usefixtures("community")
def test_it_accepts_a_staff_session_with_csrf_on_writes(alice: User, community: Community) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    assert browser.get(f"{BASE}/members").status_code == 200
    url = f"{BASE}/members/{community.ada.pk}/notes"
    body = {"text": "Met at the meetup"}
    assert_refused(browser.post(url, body, content_type="application/json"), 403)
    # What a page's {% csrf_token %} gives the browser: a cookie and the same token to send back.
    csrf = get_random_string(32)
    browser.cookies[settings.CSRF_COOKIE_NAME] = csrf
    response = browser.post(
        url, body, content_type="application/json", headers={"X-CSRFToken": csrf}
    )
    assert response.status_code == 201
    assert response.json()["author"]["username"] == "alice"


@pytest.mark.usefixtures("community")
def test_it_refuses_the_session_of_a_user_who_is_not_staff(charlie: User) -> None:
    browser = Client()
    browser.force_login(charlie)
    assert_refused(browser.get(f"{BASE}/members"), 403)
