"""Fixtures for the API tests: staff personas with their tokens, and a small community."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from townsquare.api.services import do_create_token
from townsquare.community.models import Identity, Member, MemberTag, Source, Tag
from townsquare.lib.testing import make_staff

AssertNumQueries = Callable[[int], AbstractContextManager[Any]]
BASE = "/api/v1"


class Api:
    """A test client that sends a bearer token and JSON bodies."""

    def __init__(self, client: Client, key: str | None) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(BASE + path, params, headers=self.headers)

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(
            BASE + path, body, content_type="application/json", headers=self.headers
        )

    def patch(self, path: str, body: Any) -> Any:
        return self.client.patch(
            BASE + path, body, content_type="application/json", headers=self.headers
        )

    def delete(self, path: str) -> Any:
        return self.client.delete(BASE + path, headers=self.headers)


@pytest.fixture
def alice(db: None) -> User:
    return make_staff("alice", superuser=True)


@pytest.fixture
def bob(db: None) -> User:
    return make_staff("bob")


@pytest.fixture
def charlie(db: None) -> User:
    """A user without a staff role: the API refuses him."""
    return make_staff("charlie", staff=False)


@pytest.fixture
def alice_key(alice: User) -> str:
    return do_create_token(user=alice, name="alice's script")[1]


@pytest.fixture
def alice_api(alice_key: str) -> Api:
    return Api(Client(), alice_key)


@pytest.fixture
def bob_api(bob: User) -> Api:
    return Api(Client(), do_create_token(user=bob, name="bob's script")[1])


def at(day: int, month: int = 3) -> datetime:
    return datetime(2024, month, day, 12, tzinfo=UTC)


@dataclass
class Community:
    slack: Source
    github: Source
    ada: Member
    bob: Member
    chloe: Member
    merged: Member
    erased: Member
    speaker: Tag


@pytest.fixture
def community(db: None) -> Community:
    """Ada on Slack and GitHub, tagged speaker; Bob on Slack; Chloé on GitHub; one member merged
    into Ada and one erased."""
    slack = Source.objects.create(name="Data Vis Slack", platform="slack")
    github = Source.objects.create(name="townsquare repo", platform="github")
    ada = Member.objects.create(
        display_name="Ada Lovelace",
        first_seen_at=at(1),
        last_seen_at=at(20),
        interaction_count=12,
        custom_fields={"company": "Analytical Engines"},
    )
    bob = Member.objects.create(
        display_name="Bob Builder", first_seen_at=at(5), last_seen_at=at(6), interaction_count=2
    )
    chloe = Member.objects.create(
        display_name="Chloé Martin", first_seen_at=at(10), last_seen_at=at(25), is_bot=False
    )
    merged = Member.objects.create(
        display_name="Ada Old", merged_into=ada, merged_at=at(21), first_seen_at=at(2)
    )
    erased = Member.objects.create(display_name="Erased member", erased_at=at(22))
    Identity.objects.create(
        source=slack, member=ada, external_id="U1", handle="ada", email="ada@example.org"
    )
    Identity.objects.create(
        source=github, member=ada, external_id="1", handle="countess", display_name="Ada L."
    )
    Identity.objects.create(source=slack, member=bob, external_id="U2", handle="bobb")
    Identity.objects.create(
        source=github, member=chloe, external_id="2", handle="chloem", email="chloe@example.net"
    )
    Identity.objects.create(source=slack, member=merged, external_id="U9", handle="ada_old")
    speaker = Tag.objects.create(name="Speaker")
    MemberTag.objects.create(member=ada, tag=speaker)
    return Community(slack, github, ada, bob, chloe, merged, erased, speaker)
