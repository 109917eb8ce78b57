"""Login throttling (django-axes), the Content-Security-Policy and the other security headers."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from townsquare.api.services import do_create_token

pytestmark = pytest.mark.django_db

LOGIN = "/login/"
LOCKED = "Too many failed logins: this username is locked for 15 minutes from your address."
POLICY = {
    "default-src": "'self'",
    "base-uri": "'none'",
    "object-src": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def _log_in(client: Client, username: str, password: str, address: str = "127.0.0.1") -> Any:
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def _fail(client: Client, username: str, times: int, address: str = "127.0.0.1") -> Any:
    response = None
    for _ in range(times):
        response = _log_in(client, username, "wrong", address)
    return response


def _policy(response: Any) -> dict[str, str]:
    """The header's directives, whatever their order."""
    parts = response["Content-Security-Policy"].split(";")
    return dict(part.strip().split(" ", 1) for part in parts)


def test_it_locks_a_username_out_after_repeated_failures(client: Client, alice: User) -> None:
    limit = settings.AXES_FAILURE_LIMIT
    assert (limit, settings.AXES_COOLOFF_TIME) == (5, timedelta(minutes=15))
    response = _fail(client, "alice", limit - 1)
    assert response.status_code == 200
    assert "Please enter a correct username and password." in response.content.decode()

    response = _log_in(client, "alice", "wrong")
    assert response.status_code == 429
    page = response.content.decode()
    assert f'<div class="form-errors" role="alert"><p>{LOCKED}' in page
    assert 'value="alice"' in page and "csrfmiddlewaretoken" in page

    # Even the right password is refused while locked out.
    response = _log_in(client, "alice", "password")
    assert response.status_code == 429
    assert client.get(reverse("terms")).status_code == 302


def test_it_locks_out_one_username_from_one_address_only(
    client: Client, alice: User, bob: User
) -> None:
    _fail(client, "alice", settings.AXES_FAILURE_LIMIT)
    assert _log_in(client, "alice", "password").status_code == 429
    assert _log_in(Client(), "bob", "password").status_code == 302
    assert _log_in(Client(), "alice", "password", address="10.0.0.7").status_code == 302


def test_it_lets_the_user_in_again_after_the_cool_off(client: Client, alice: User) -> None:
    _fail(client, "alice", settings.AXES_FAILURE_LIMIT)
    assert _log_in(client, "alice", "password").status_code == 429
    earlier = timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    AccessAttempt.objects.update(attempt_time=earlier)
    assert _log_in(client, "alice", "password").status_code == 302


def test_it_forgets_failures_after_a_successful_login(client: Client, alice: User) -> None:
    _fail(client, "alice", settings.AXES_FAILURE_LIMIT - 1)
    assert _log_in(client, "alice", "password").status_code == 302
    client.post(reverse("logout"))
    assert _fail(client, "alice", settings.AXES_FAILURE_LIMIT - 1).status_code == 200


def test_it_never_locks_out_api_tokens(client: Client, alice: User) -> None:
    key = do_create_token(user=alice, name="script")[1]
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        response = client.get("/api/v1/members", headers={"Authorization": "Bearer wrong"})
        assert response.status_code == 401
    assert not AccessAttempt.objects.exists()

    # A locked-out login does not stop the same user's token.
    _fail(client, "alice", settings.AXES_FAILURE_LIMIT)
    assert _log_in(client, "alice", "password").status_code == 429
    response = client.get("/api/v1/members", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200


@pytest.mark.parametrize("path", [LOGIN, "/terms/", "/members/", "/staff/"])
def test_it_sends_the_content_security_policy(alice_client: Client, path: str) -> None:
    if path == LOGIN:
        alice_client.logout()
    response = alice_client.get(path)
    assert response.status_code == 200
    assert _policy(response) == POLICY


def test_it_lets_only_the_api_docs_show_data_images(alice_client: Client) -> None:
    response = alice_client.get("/api/v1/docs")
    assert response.status_code == 200
    assert _policy(response) == {**POLICY, "img-src": "'self' data:"}
    # Swagger UI's files come from the app, and its settings are data, not an inline script.
    page = response.content.decode()
    assert '<script type="application/json" id="swagger-settings">' in page
    assert page.count("<script") == 3 and page.count('<script src="/static/') == 2


def test_it_sends_the_other_security_headers(client: Client) -> None:
    response = client.get(LOGIN)
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_it_marks_the_session_cookie(client: Client, alice: User) -> None:
    response = _log_in(client, "alice", "password")
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["httponly"] and session["samesite"] == "Lax"


def test_it_reads_throttling_and_cookie_settings_from_the_environment(tmp_path: Path) -> None:
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE)"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "townsquare.settings",
        "TOWNSQUARE_DATA_DIR": str(tmp_path),
        "TOWNSQUARE_LOGIN_FAILURE_LIMIT": "3",
        "TOWNSQUARE_LOGIN_COOLOFF_MINUTES": "60",
        "TOWNSQUARE_SECURE_COOKIES": "true",
    }
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.stdout == "3 1:00:00 True True\n", result.stderr

    env["TOWNSQUARE_LOGIN_FAILURE_LIMIT"] = "0"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert "TOWNSQUARE_LOGIN_FAILURE_LIMIT='0': expected a number of at least 1" in result.stderr


def test_it_tells_htmx_to_inject_no_styles_and_eval_nothing(alice_client: Client) -> None:
    head = alice_client.get("/terms/").content.decode().split("</head>")[0]
    assert (
        '<meta name="htmx-config" content=\'{"includeIndicatorStyles": false, '
        '"allowEval": false, "allowScriptTags": false, "attributesToSettle": ["class", "width", '
        '"height"]}\'>'
    ) in head
    assert "<style" not in head and "<script>" not in head
