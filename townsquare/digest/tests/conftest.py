"""Two weeks of a small community, written row by row so each test can count by hand, then
rolled up (inbox) and queued (care) through the real code.

The week of the digest is Monday 9 March 2026 (UTC): 7 messages, 4 active members (ada, bob,
cleo, dan), 1 new member (cleo), answers after 60 and 120 minutes, 1 question left
unanswered, sentiment +0.6, 0, −0.5, +0.4, −0.3 (one message in an unsupported language,
one not analysed). The week before: 4 messages, 3 active members (dan only reacted), 2 new
members (ada, bob), answers after 30 and 90 minutes, sentiment +0.5, +0.3, −0.2.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from townsquare.care.queue import refresh_queue
from townsquare.community.models import (
    Channel,
    Conversation,
    Identity,
    Interaction,
    InteractionKind,
    Member,
    Source,
)
from townsquare.connectors.writer import refresh_member_activity
from townsquare.inbox.rollup import refresh_states
from townsquare.listening.models import Alert, AlertMetric, Enrichment, SentimentLabel

WEEK = date(2026, 3, 9)
# When the digest of WEEK is built: its send time, Monday 16 March 08:00 UTC.
NOW = datetime(2026, 3, 16, 8, 0, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of March 2026, UTC."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


@dataclass
class Community:
    source: Source
    channel: Channel
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def member(self, name: str, *, team: bool = False) -> Member:
        person = Member.objects.create(display_name=name, is_team=team)
        Identity.objects.create(
            source=self.source, member=person, external_id=f"u-{name}", display_name=name
        )
        return person

    def conversation(self, started: datetime) -> Conversation:
        return Conversation.objects.create(
            source=self.source,
            channel=self.channel,
            external_id=f"c{next(self.counter)}",
            started_at=started,
        )

    def say(
        self,
        member: Member,
        moment: datetime,
        *,
        conversation: Conversation | None = None,
        kind: str = InteractionKind.MESSAGE,
        sentiment: float | None = None,
        label: str = "",
        question: bool = False,
    ) -> Interaction:
        interaction = Interaction.objects.create(
            source=self.source,
            external_id=f"i{next(self.counter)}",
            kind=kind,
            identity=Identity.objects.get(member=member),
            member=member,
            channel=self.channel,
            conversation=conversation,
            text="Hello",
            created_at=moment,
            content_hash="x",
            imported_at=timezone.now(),
        )
        if label:
            Enrichment.objects.create(
                interaction=interaction,
                member=member,
                analyzed=True,
                sentiment=sentiment,
                sentiment_label=label,
                is_question=question,
                version_key="test",
                enriched_at=timezone.now(),
            )
        return interaction

    def settle(self, now: datetime = NOW) -> None:
        """What an import and its enrichment run would do next: member activity, the inbox
        rollup and the care queue."""
        refresh_member_activity(self.source)
        refresh_states()
        refresh_queue(now)


POSITIVE, NEUTRAL, NEGATIVE = (
    SentimentLabel.POSITIVE,
    SentimentLabel.NEUTRAL,
    SentimentLabel.NEGATIVE,
)


@pytest.fixture
def community(db: None) -> Community:
    source = Source.objects.create(name="workspace", platform="slack")
    channel = Channel.objects.create(source=source, external_id="C1", name="help")
    return Community(source, channel)


@pytest.fixture
def two_weeks(community: Community) -> Community:
    c = community
    ada, bob, cleo, dan = (c.member(n) for n in ("ada", "bob", "cleo", "dan"))
    staffer = c.member("sam", team=True)
    # Dan joined a year before: his anniversary falls on Thursday 12 March.
    c.say(dan, datetime(2025, 3, 12, 10, 0, tzinfo=UTC))

    # The week before (Monday 2 March).
    c1 = c.conversation(at(3, 10))
    c.say(ada, at(3, 10), conversation=c1, sentiment=0.5, label=POSITIVE)
    c.say(bob, at(3, 10, 30), conversation=c1, sentiment=0.3, label=POSITIVE)
    c.say(dan, at(3, 11), conversation=c1, kind=InteractionKind.REACTION)
    c2 = c.conversation(at(4, 9))
    c.say(bob, at(4, 9), conversation=c2, sentiment=-0.2, label=NEGATIVE)
    c.say(ada, at(4, 10, 30), conversation=c2)

    # The week (Monday 9 March).
    c3 = c.conversation(at(9, 10))
    c.say(ada, at(9, 10), conversation=c3, sentiment=0.6, label=POSITIVE)
    c.say(bob, at(9, 11), conversation=c3, sentiment=0.0, label=NEUTRAL)
    c4 = c.conversation(at(10, 12))
    c.say(cleo, at(10, 12), conversation=c4, sentiment=-0.5, label=NEGATIVE, question=True)
    c.say(ada, at(10, 14), conversation=c4, sentiment=0.4, label=POSITIVE)
    c.say(staffer, at(10, 15), conversation=c4, label=SentimentLabel.UNSUPPORTED)
    c5 = c.conversation(at(11, 8))
    c.say(bob, at(11, 8), conversation=c5, sentiment=-0.3, label=NEGATIVE, question=True)
    c.say(dan, at(12, 10))

    # A spike on the week's Thursday, and one on the Sunday before it (not this week's).
    for day in (12, 8):
        Alert.objects.create(
            channel=c.channel,
            metric=AlertMetric.VOLUME,
            window_start=at(day, 0),
            window_end=at(day, 0) + timedelta(days=1),
            value=30,
            mean=4,
            std=1,
            k=2,
            message=f"Volume in #help on {day} Mar 2026 is 26.0σ above its 7-day norm.",
        )
    c.settle()
    return c
