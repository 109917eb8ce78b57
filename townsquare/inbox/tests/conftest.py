"""Fixtures of the inbox tests: the staff personas, and a small community written row by row
so each test says exactly who wrote what, when."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from townsquare.community.models import (
    Channel,
    Conversation,
    Identity,
    Interaction,
    InteractionKind,
    Member,
    Source,
)
from townsquare.lib.testing import make_staff
from townsquare.listening.models import Enrichment

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def alice(db: None) -> User:
    """An admin."""
    return make_staff("alice", superuser=True)


@pytest.fixture
def bob(db: None) -> User:
    """A manager: claims, replies, marks answered."""
    user = make_staff("bob")
    user.first_name, user.last_name = "Bob", "Builder"
    user.save()
    return user


@pytest.fixture
def dora(db: None) -> User:
    """Another manager, to collide with Bob."""
    return make_staff("dora")


@pytest.fixture
def vera(db: None) -> User:
    """A viewer: sees the inbox, changes nothing."""
    return make_staff("vera", role="viewer")


@pytest.fixture
def bob_client(client: Client, bob: User) -> Client:
    client.force_login(bob)
    return client


@dataclass
class Community:
    """Writes sources, members, conversations and messages with as few words as a test needs."""

    source: Source
    channel: Channel
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def member(self, name: str, *, bot: bool = False, bot_account: bool = False) -> Member:
        """A member with one account on the source (`bot_account`: only the account is marked
        as a bot, as importers do)."""
        person = Member.objects.create(display_name=name, is_bot=bot)
        Identity.objects.create(
            source=self.source,
            member=person,
            external_id=f"u-{name}",
            handle=name.lower().replace(" ", "."),
            display_name=name,
            is_bot=bot_account,
        )
        return person

    def conversation(self, title: str = "A question", *, at: datetime = START) -> Conversation:
        return Conversation.objects.create(
            source=self.source,
            channel=self.channel,
            external_id=f"c{next(self.counter)}",
            title=title,
            started_at=at,
        )

    def say(
        self,
        conversation: Conversation,
        member: Member | None,
        minutes: float = 0,
        *,
        kind: str = InteractionKind.MESSAGE,
        text: str = "Hello",
    ) -> Interaction:
        identity = Identity.objects.filter(member=member).first() if member else None
        return Interaction.objects.create(
            source=self.source,
            external_id=f"i{next(self.counter)}",
            kind=kind,
            identity=identity,
            member=member,
            channel=self.channel,
            conversation=conversation,
            text=text,
            created_at=conversation.started_at + timedelta(minutes=minutes),
            content_hash="x",
            imported_at=timezone.now(),
        )

    def label(self, message: Interaction, **values: object) -> Enrichment:
        return Enrichment.objects.create(
            interaction=message,
            analyzed=True,
            version_key="test",
            enriched_at=timezone.now(),
            **values,
        )


@pytest.fixture
def community(db: None) -> Community:
    source = Source.objects.create(name="workspace", platform="slack")
    channel = Channel.objects.create(source=source, external_id="C1", name="help")
    return Community(source, channel)
