"""The metrics the Reports page added: messages per period, the unanswered share, new members
per week, topics of a scope, top helpers, and a scope narrowed to some members."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from townsquare.community.models import Channel, InteractionKind, Member, Source
from townsquare.inbox.models import ConversationState
from townsquare.inbox.rollup import refresh_states
from townsquare.listening import pulse
from townsquare.listening.models import Thanks
from townsquare.metrics import definitions as m
from townsquare.metrics.tests.conftest import START, Community

DAY = START.date()  # Monday 2 March 2026


def only(*members: Member) -> m.Scope:
    return m.Scope(members=Member.objects.filter(pk__in=[p.pk for p in members]))


# Messages per period -------------------------------------------------------------------------


def test_it_counts_messages_as_the_pulse_counts_volume(community: Community) -> None:
    ann, bot = community.member("Ann"), community.member("Bot", bot=True)
    community.act(ann, START)
    community.act(bot, START + timedelta(hours=1))  # every author, bots included
    community.act(ann, START + timedelta(hours=2), kind=InteractionKind.REACTION)  # no message
    community.act(ann, START + timedelta(days=2), kind=InteractionKind.ANSWER)
    community.act(None, START + timedelta(days=2))  # no known author: still a message
    scope = m.Scope(since=DAY, until=DAY + timedelta(days=4))
    counts = m.activity(scope, "day")
    assert counts == {
        DAY: 2,
        DAY + timedelta(days=1): 0,
        DAY + timedelta(days=2): 2,
        DAY + timedelta(days=3): 0,
    }
    trend = pulse.trends(DAY, DAY + timedelta(days=4), "day").overall.buckets
    assert [f.volume for f in trend] == list(counts.values())


def test_it_lists_messages_from_the_first_to_the_last_without_bounds(
    community: Community,
) -> None:
    ann = community.member("Ann")
    community.act(ann, START)
    community.act(ann, START + timedelta(days=40))
    assert m.activity(m.Scope(), "month") == {date(2026, 3, 1): 1, date(2026, 4, 1): 1}
    assert m.activity(m.Scope(source="workspace")) == m.activity(m.Scope())
    with pytest.raises(ValueError, match="--period"):
        m.activity(m.Scope(), "year")  # type: ignore[arg-type]


def test_it_gives_nothing_for_an_empty_community(db: None) -> None:
    assert m.activity(m.Scope()) == {}


# Unanswered share ----------------------------------------------------------------------------


def test_it_shares_unanswered_conversations_among_those_old_enough(
    community: Community,
) -> None:
    ann, ben = community.member("Ann"), community.member("Ben")
    now = START + timedelta(days=7, hours=24)
    for day, answered in ((0, True), (0, False), (1, False), (7, False)):
        talk = community.conversation(at=START + timedelta(days=day))
        community.say(talk, ann)
        if answered:
            community.say(talk, ben, 5, kind=InteractionKind.REPLY)
    # Opened exactly 24 hours before now: old enough, as for `unanswered`.
    refresh_states()
    week = m.unanswered_share(m.Scope(), "week", hours=24, now=now)
    assert [(u.period_start, u.conversations, u.unanswered) for u in week] == [
        (DAY, 3, 2),
        (DAY + timedelta(days=7), 1, 1),
    ]
    assert week[0].share == pytest.approx(2 / 3)
    assert sum(u.unanswered for u in week) == m.unanswered(m.Scope(), 24, now).total
    # One second younger and the last conversation cannot be judged yet.
    earlier = m.unanswered_share(m.Scope(), "week", hours=24, now=now - timedelta(seconds=1))
    assert [u.conversations for u in earlier] == [3]


def test_it_takes_a_conversation_marked_answered_out(community: Community) -> None:
    ann = community.member("Ann")
    talk = community.conversation()
    community.say(talk, ann)
    refresh_states()
    ConversationState.objects.filter(conversation=talk).update(
        awaiting_reply=False, answered_at=START
    )
    [month] = m.unanswered_share(m.Scope(), now=START + timedelta(days=2))
    assert (month.conversations, month.unanswered, month.share) == (1, 0, 0.0)


# New members per week ------------------------------------------------------------------------


def test_it_counts_new_members_per_week(community: Community) -> None:
    ann, ben = community.member("Ann"), community.member("Ben")
    community.act(ann, START + timedelta(days=6))  # Sunday: still the first week
    community.act(ben, START + timedelta(days=14))
    community.act(ann, START + timedelta(days=15))
    assert m.new_members(m.Scope(), "week") == {
        DAY: 1,
        DAY + timedelta(days=7): 0,
        DAY + timedelta(days=14): 1,
    }
    assert m.new_members(m.Scope()) == {date(2026, 3, 1): 2}


# Members of a segment ------------------------------------------------------------------------


def test_it_narrows_member_metrics_to_the_members_given(community: Community) -> None:
    ann, ben, cat = (community.member(n) for n in ("Ann", "Ben", "Cat"))
    for person, count in ((ann, 3), (ben, 1), (cat, 1)):
        for n in range(count):
            community.act(person, START + timedelta(hours=n))
    community.act(cat, START + timedelta(days=1))
    assert m.daily_active(only(ann, cat)) == {DAY: 2, DAY + timedelta(days=1): 1}
    assert m.absence_factor(only(ben, cat)) == m.AbsenceFactor(1, 2, 3)  # Cat: 2 of 3
    assert m.new_members(only(ben)) == {date(2026, 3, 1): 1}
    assert sum(map(sum, m.activity_heatmap(only(ann)).utc)) == 3
    assert m.activity(only(ann), "day") == {DAY: 3}
    assert m.active_members(only(ann, ben), DAY).mau == 2


def test_it_narrows_response_times_to_conversations_the_members_opened(
    community: Community,
) -> None:
    ann, ben = community.member("Ann"), community.member("Ben")
    for opener, responder, minutes in ((ann, ben, 10), (ben, ann, 30)):
        talk = community.conversation()
        community.say(talk, opener)
        community.say(talk, responder, minutes, kind=InteractionKind.REPLY)
    lonely = community.conversation()
    community.say(lonely, ben)
    refresh_states()
    [overall, _] = m.ttfr(only(ann))
    assert (overall.conversations, overall.median_seconds) == (1, 600)
    assert m.unanswered(only(ann), 0).total == 0
    assert m.unanswered(only(ben), 0).total == 1


def test_it_keeps_the_whole_community_for_sentiment_and_topics(community: Community) -> None:
    ann, ben = community.member("Ann"), community.member("Ben")
    community.act(ann, START)
    community.act(ben, START)
    scope = m.Scope(since=DAY, until=DAY + timedelta(days=1))
    narrowed = m.Scope(since=DAY, until=DAY + timedelta(days=1), members=only(ann).members)
    assert m.sentiment_trend(narrowed, "day") == m.sentiment_trend(scope, "day")
    assert m.sentiment_trend(narrowed, "day")[0].messages == 2


# Topics --------------------------------------------------------------------------------------


def test_it_needs_a_period_for_topics(db: None) -> None:
    with pytest.raises(ValueError, match="--since and --until"):
        m.topics(m.Scope(since=DAY))


def test_it_takes_a_sources_channels_for_topics(community: Community) -> None:
    other = Source.objects.create(name="forum", platform="stackexchange")
    Channel.objects.create(source=other, external_id="Q", name="questions")
    scope = m.Scope(source="forum", since=DAY, until=DAY + timedelta(days=1))
    assert m.topics(scope) == []


# Top helpers ---------------------------------------------------------------------------------


def test_it_ranks_helpers_by_first_responses_thanks_and_accepted_answers(
    community: Community,
) -> None:
    ann, ben, cat = (community.member(n) for n in ("Ann", "Ben", "Cat"))
    staff = community.member("Staff", team=True)
    # Ben answers first twice: listed without any thanks. Cat answers first once: not.
    for responder in (ben, ben, cat, staff, staff):
        talk = community.conversation()
        community.say(talk, ann)
        community.say(talk, responder, 5, kind=InteractionKind.REPLY)
    # Ann thanks Cat once, accepts one of Cat's answers, and thanks the staff member.
    question = community.conversation()
    community.say(question, ann, kind=InteractionKind.POST)
    answer = community.say(question, cat, 3, kind=InteractionKind.ANSWER)
    accepted = community.say(question, ann, 4, kind=InteractionKind.ACCEPTED)
    accepted.parent = answer
    accepted.save()
    for person in (cat, staff):
        message = community.say(question, ann, 6)
        Thanks.objects.create(
            interaction=message, from_member=ann, to_member=person, created_at=message.created_at
        )
    refresh_states()
    helpers = m.top_helpers(m.Scope())
    # Cat: first in 2 conversations (the question too), 1 thanks, 1 accepted: 2 + 2 × 2 = 6.
    assert [(h.name, h.thanks, h.accepted, h.first_responses, h.score) for h in helpers] == [
        ("Cat", 1, 1, 2, 6),
        ("Ben", 0, 0, 2, 2),
    ]
    assert m.top_helpers(m.Scope(), limit=1)[0].name == "Cat"
    assert m.top_helpers(m.Scope(since=DAY + timedelta(days=1))) == []
    assert [h.name for h in m.top_helpers(only(ben))] == ["Ben"]
