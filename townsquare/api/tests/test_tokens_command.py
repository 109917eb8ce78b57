from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client

from townsquare.api.models import ApiToken
from townsquare.api.tests.conftest import Api


def tokens(*args: str) -> str:
    out = StringIO()
    call_command("tokens", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_it_creates_a_token_and_prints_its_key_once(alice: User) -> None:
    out = tokens("create", "alice", "--name", "CRM sync")
    key = out.strip().splitlines()[-1]
    assert key.startswith("tsq_")
    token = ApiToken.objects.get()
    assert (token.user, token.name) == (alice, "CRM sync")
    assert Api(Client(), key).get("/members").status_code == 200
    listed = tokens("list")
    assert f"#{token.pk} {token.prefix}… 'CRM sync' user=alice" in listed
    assert "last used" in listed and "active" in listed
    assert key not in listed


def test_it_revokes_a_token(alice: User) -> None:
    key = tokens("create", "alice", "--name", "old").strip().splitlines()[-1]
    token = ApiToken.objects.get()
    assert tokens("revoke", str(token.pk)) == f"Revoked token #{token.pk} 'old'.\n"
    assert ApiToken.objects.get().revoked_at is not None
    assert Api(Client(), key).get("/members").status_code == 401
    assert "revoked" in tokens("list")
    assert "already revoked" in tokens("revoke", str(token.pk))


@pytest.mark.django_db
def test_it_reports_unknown_users_and_tokens() -> None:
    with pytest.raises(CommandError, match="no user named 'nobody'"):
        tokens("create", "nobody", "--name", "x")
    with pytest.raises(CommandError, match="no token #42"):
        tokens("revoke", "42")
    with pytest.raises(CommandError):
        tokens("create", "alice")  # --name is required
    assert "No tokens" in tokens("list")
