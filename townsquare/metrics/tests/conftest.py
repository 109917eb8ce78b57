"""A small community written row by row, so each test says who did what, when."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
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
from townsquare.metrics.rollups import refresh_days

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Community:
    source: Source
    channel: Channel
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def member(
        self, name: str, *, bot: bool = False, team: bool = False, bot_account: bool = False
    ) -> Member:
        person = Member.objects.create(display_name=name, is_bot=bot, is_team=team)
        Identity.objects.create(
            source=self.source,
            member=person,
            external_id=f"u-{name}-{next(self.counter)}",
            display_name=name,
            is_bot=bot_account,
        )
        return person

    def conversation(self, *, at: datetime = START, channel: Channel | None = None) -> Conversation:
        return Conversation.objects.create(
            source=self.source,
            channel=channel or self.channel,
            external_id=f"c{next(self.counter)}",
            started_at=at,
        )

    def act(
        self,
        member: Member | None,
        at: datetime,
        *,
        kind: str = InteractionKind.MESSAGE,
        conversation: Conversation | None = None,
        channel: Channel | None = None,
    ) -> Interaction:
        identity = Identity.objects.filter(member=member).first() if member else None
        interaction = Interaction.objects.create(
            source=self.source,
            external_id=f"i{next(self.counter)}",
            kind=kind,
            identity=identity,
            member=member,
            channel=channel or (conversation.channel if conversation else self.channel),
            conversation=conversation,
            text="Hello",
            created_at=at,
            content_hash="x",
            imported_at=timezone.now(),
        )
        # As the importer does after its run: the day's rollups count the new row.
        refresh_days([at.astimezone(UTC).date()])
        return interaction

    def say(
        self,
        conversation: Conversation,
        member: Member | None,
        minutes: float = 0,
        *,
        kind: str = InteractionKind.MESSAGE,
    ) -> Interaction:
        return self.act(
            member,
            conversation.started_at + timedelta(minutes=minutes),
            kind=kind,
            conversation=conversation,
        )


@pytest.fixture
def community(db: None) -> Community:
    source = Source.objects.create(name="workspace", platform="slack")
    channel = Channel.objects.create(source=source, external_id="C1", name="help")
    return Community(source, channel)
