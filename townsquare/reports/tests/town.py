"""A small community written row by row, whose every figure the report tests work out by
hand. Two weeks of March 2024 (Monday the 4th to Sunday the 17th) in a Slack workspace and a
Q&A forum, and a little of April for retention:

week 1
  c1 #help    Mon 4th  09:00 Ann asks, 09:30 Ben replies, 10:00 Ann thanks Ben
  c2 #help    Tue 5th  12:00 Cat asks, 14:00 Staff replies
  c3 #random  Wed 6th  08:00 Dan writes, 09:00 Ben reacts (no response: reactions don't count)
week 2
  c4 #help    Tue 12th 10:00 Ann asks, 11:00 Ben replies, 12:00 Bot writes
  c5 #help    Wed 13th 15:00 Dan asks, 17:00 Cat replies, 18:00 Ann thanks Cat, 19:00 Ben
  c6 forum    Thu 14th 10:00 Eve posts, 11:00 Ben answers, 12:00 Eve accepts Ben's answer
  c7 #random  Fri 15th 09:00, 09:05, 09:10 Ben writes (nobody answers)
April
  c8 #help    Tue 2nd  10:00 Ann writes
  c9 #random  Wed 3rd  10:00 Fay writes (her first interaction)

Ann and Ben carry the tag "regulars", which the segment "Regulars" selects. Messages of week 1
in #help carry the keyword "slides" and a sentiment."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.utils import timezone

from townsquare.community.models import (
    Channel,
    Conversation,
    Identity,
    Interaction,
    InteractionKind,
    Member,
    MemberTag,
    Source,
    Tag,
)
from townsquare.inbox.rollup import refresh_states
from townsquare.listening.models import Enrichment, SentimentLabel, Thanks
from townsquare.metrics.rollups import rebuild as rebuild_rollups
from townsquare.segments.models import Segment

# The two weeks, as the pickers take them (both days included).
SINCE = "2024-03-04"
UNTIL = "2024-03-17"
TWO_WEEKS = {"range": "custom", "since": SINCE, "until": UNTIL, "period": "week"}


def at(day: int, clock: str, month: int = 3) -> datetime:
    hour, minute = (int(part) for part in clock.split(":"))
    return datetime(2024, month, day, hour, minute, tzinfo=UTC)


@dataclass
class Town:
    slack: Source
    forum: Source
    help: Channel
    random: Channel
    questions: Channel
    members: dict[str, Member] = field(default_factory=dict)
    segment: Segment | None = None
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def member(self, name: str, *, team: bool = False, bot: bool = False) -> Member:
        person = Member.objects.create(display_name=name, is_team=team, is_bot=bot)
        for source in (self.slack, self.forum):
            Identity.objects.create(
                source=source, member=person, external_id=f"u-{name}", display_name=name
            )
        self.members[name] = person
        return person

    def conversation(self, channel: Channel, started: datetime) -> Conversation:
        return Conversation.objects.create(
            source=channel.source,
            channel=channel,
            external_id=f"c{next(self.counter)}",
            started_at=started,
        )

    def say(
        self,
        conversation: Conversation,
        name: str,
        when: datetime,
        kind: str = InteractionKind.MESSAGE,
        parent: Interaction | None = None,
    ) -> Interaction:
        person = self.members[name]
        source = conversation.source
        return Interaction.objects.create(
            source=source,
            external_id=f"i{next(self.counter)}",
            kind=kind,
            identity=Identity.objects.get(member=person, source=source),
            member=person,
            channel=conversation.channel,
            conversation=conversation,
            parent=parent,
            text=f"{name} says hello",
            created_at=when,
            content_hash="x",
            imported_at=timezone.now(),
        )


def enrich(message: Interaction, sentiment: float | None, label: str, keywords: list[str]) -> None:
    Enrichment.objects.create(
        interaction=message,
        member=message.member,
        analyzed=True,
        language="en",
        sentiment=sentiment,
        sentiment_label=label,
        keywords=keywords,
        version_key="test",
        enriched_at=timezone.now(),
    )


def thank(message: Interaction, to: Member) -> None:
    assert message.member is not None
    Thanks.objects.create(
        interaction=message, from_member=message.member, to_member=to, created_at=message.created_at
    )


def build_town() -> Town:
    slack = Source.objects.create(name="workspace", platform="slack")
    forum = Source.objects.create(name="forum", platform="stackexchange")
    town = Town(
        slack=slack,
        forum=forum,
        help=Channel.objects.create(source=slack, external_id="C1", name="help"),
        random=Channel.objects.create(source=slack, external_id="C2", name="random"),
        questions=Channel.objects.create(source=forum, external_id="Q", name="questions"),
    )
    for name in ("Ann", "Ben", "Cat", "Dan", "Eve", "Fay"):
        town.member(name)
    town.member("Staff", team=True)
    town.member("Bot", bot=True)
    m = town.members

    c1 = town.conversation(town.help, at(4, "09:00"))
    ask = town.say(c1, "Ann", at(4, "09:00"))
    reply = town.say(c1, "Ben", at(4, "09:30"), InteractionKind.REPLY)
    thanks = town.say(c1, "Ann", at(4, "10:00"))
    thank(thanks, m["Ben"])
    c2 = town.conversation(town.help, at(5, "12:00"))
    worry = town.say(c2, "Cat", at(5, "12:00"))
    staff = town.say(c2, "Staff", at(5, "14:00"), InteractionKind.REPLY)
    enrich(ask, 0.5, SentimentLabel.POSITIVE, ["slides"])
    enrich(reply, 0.0, SentimentLabel.NEUTRAL, ["slides"])
    enrich(thanks, 0.8, SentimentLabel.POSITIVE, ["slides", "thanks"])
    enrich(worry, -0.6, SentimentLabel.NEGATIVE, ["deploy"])
    enrich(staff, None, SentimentLabel.UNSUPPORTED, ["deploy"])
    c3 = town.conversation(town.random, at(6, "08:00"))
    town.say(c3, "Dan", at(6, "08:00"))
    town.say(c3, "Ben", at(6, "09:00"), InteractionKind.REACTION)

    c4 = town.conversation(town.help, at(12, "10:00"))
    town.say(c4, "Ann", at(12, "10:00"))
    town.say(c4, "Ben", at(12, "11:00"), InteractionKind.REPLY)
    town.say(c4, "Bot", at(12, "12:00"))
    c5 = town.conversation(town.help, at(13, "15:00"))
    town.say(c5, "Dan", at(13, "15:00"))
    town.say(c5, "Cat", at(13, "17:00"), InteractionKind.REPLY)
    thank(town.say(c5, "Ann", at(13, "18:00")), m["Cat"])
    town.say(c5, "Ben", at(13, "19:00"), InteractionKind.REPLY)
    c6 = town.conversation(town.questions, at(14, "10:00"))
    town.say(c6, "Eve", at(14, "10:00"), InteractionKind.POST)
    answer = town.say(c6, "Ben", at(14, "11:00"), InteractionKind.ANSWER)
    town.say(c6, "Eve", at(14, "12:00"), InteractionKind.ACCEPTED, parent=answer)
    c7 = town.conversation(town.random, at(15, "09:00"))
    for clock in ("09:00", "09:05", "09:10"):
        town.say(c7, "Ben", at(15, clock))

    town.say(town.conversation(town.help, at(2, "10:00", 4)), "Ann", at(2, "10:00", 4))
    town.say(town.conversation(town.random, at(3, "10:00", 4)), "Fay", at(3, "10:00", 4))

    regulars = Tag.objects.create(name="regulars")
    for name in ("Ann", "Ben"):
        MemberTag.objects.create(member=m[name], tag=regulars)
    town.segment = Segment.objects.create(name="Regulars", filters={"tag": str(regulars.pk)})
    refresh_states()
    rebuild_rollups()
    return town
