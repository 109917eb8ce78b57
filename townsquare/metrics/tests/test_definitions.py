"""Each metric's edge cases of the design's METRICS.md, on rows written by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from townsquare.community.models import Channel, InteractionKind, Member
from townsquare.community.services import do_merge_members
from townsquare.inbox.models import ConversationState
from townsquare.inbox.rollup import refresh_states
from townsquare.listening.models import Enrichment
from townsquare.metrics import definitions as m
from townsquare.metrics.tests.conftest import START, Community

CHAOSS_VECTOR = [1000, 202, 90, 33, 332, 343, 42, 433]


def at(day: str, clock: str = "12:00:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=UTC)


# Absence factor and onion --------------------------------------------------------------------


def test_it_gives_the_chaoss_test_vector_an_absence_factor_of_2() -> None:
    assert m.bus_factor(CHAOSS_VECTOR) == 2


def test_it_counts_reaching_exactly_half() -> None:
    assert m.bus_factor([50, 30, 20]) == 1
    assert m.bus_factor([49, 31, 20]) == 2
    assert m.bus_factor([]) == 0


def test_it_computes_the_absence_factor_without_staff_and_bots(community: Community) -> None:
    ann, ben, cat = (community.member(n) for n in ("Ann", "Ben", "Cat"))
    staff, bot = community.member("Staff", team=True), community.member("Bot", bot=True)
    for person, count in ((ann, 3), (ben, 2), (cat, 1), (staff, 50), (bot, 50)):
        for n in range(count):
            community.act(person, START + timedelta(minutes=n))
    assert m.absence_factor(m.Scope()) == m.AbsenceFactor(factor=1, members=3, interactions=6)


def test_it_sorts_members_into_onion_layers() -> None:
    layers = m.onion_layers([5, 80, 15])
    assert layers.core == m.Layer(1, 80)  # exactly 80 % is core
    assert layers.regular == m.Layer(1, 15)  # 95 % exactly is regular
    assert layers.casual == m.Layer(1, 5)


def test_it_computes_the_onion_from_the_database(community: Community) -> None:
    ann, ben = community.member("Ann"), community.member("Ben")
    for n in range(9):
        community.act(ann, START + timedelta(minutes=n))
    community.act(ben, START)
    onion = m.onion(m.Scope())
    assert (onion.core.members, onion.regular.members, onion.casual.members) == (0, 1, 1)


# Time to first response and unanswered -------------------------------------------------------


def test_it_ignores_the_authors_own_replies_and_bots(community: Community) -> None:
    ann, ben = community.member("Ann"), community.member("Ben")
    bot, bot_account = community.member("Bot", bot=True), community.member("Hook", bot_account=True)
    talk = community.conversation()
    community.say(talk, ann)
    community.say(talk, ann, 5, kind=InteractionKind.REPLY)
    community.say(talk, bot, 6, kind=InteractionKind.REPLY)
    community.say(talk, bot_account, 7, kind=InteractionKind.REPLY)
    community.say(talk, ben, 30, kind=InteractionKind.REPLY)
    refresh_states()
    [overall, help_channel] = m.ttfr(m.Scope())
    assert overall.channel is None and help_channel.channel == "help"
    assert overall.median_seconds == 30 * 60
    assert overall.p90_seconds == 30 * 60


def test_it_gives_no_value_to_a_conversation_without_response(community: Community) -> None:
    ann = community.member("Ann")
    talk = community.conversation()
    community.say(talk, ann)
    community.say(talk, ann, 5, kind=InteractionKind.REPLY)
    refresh_states()
    [overall, _] = m.ttfr(m.Scope())
    assert (overall.conversations, overall.responded, overall.no_response) == (1, 0, 1)
    assert overall.median_seconds is None and overall.p90_seconds is None


def test_it_counts_reactions_only_when_the_setting_says_so(
    community: Community, settings: Any
) -> None:
    ann, ben = community.member("Ann"), community.member("Ben")
    talk = community.conversation()
    community.say(talk, ann)
    community.say(talk, ben, 2, kind=InteractionKind.REACTION)
    community.say(talk, ben, 10, kind=InteractionKind.REPLY)
    refresh_states()
    assert m.ttfr(m.Scope())[0].median_seconds == 600
    settings.TOWNSQUARE_TTFR_COUNTS_REACTIONS = True
    refresh_states()
    assert m.ttfr(m.Scope())[0].median_seconds == 120


def test_it_gives_median_and_p90_per_channel_and_period(community: Community) -> None:
    ann, ben = community.member("Ann"), community.member("Ben")
    other = Channel.objects.create(source=community.source, external_id="C2", name="random")
    for minutes in (10, 20, 30, 40):
        talk = community.conversation()
        community.say(talk, ann)
        community.say(talk, ben, minutes, kind=InteractionKind.REPLY)
    talk = community.conversation(channel=other, at=START + timedelta(days=31))
    community.say(talk, ann)
    community.say(talk, ben, 1.5, kind=InteractionKind.REPLY)
    refresh_states()
    rows = {(r.channel, r.period_start): r for r in m.ttfr(m.Scope(), "month")}
    march = rows[("help", date(2026, 3, 1))]
    assert march.median_seconds == pytest.approx(25 * 60)
    # p90: position 3 × 0.9 = 2.7 between 30 and 40 minutes.
    assert march.p90_seconds == pytest.approx(37 * 60)
    assert rows[("random", date(2026, 4, 1))].median_seconds == pytest.approx(90)
    assert rows[(None, date(2026, 3, 1))].conversations == 4
    assert rows[(None, date(2026, 4, 1))].responded == 1
    assert [r.channel for r in m.ttfr(m.Scope(channel="random"))] == [None, "random"]
    # since included, until excluded, on the conversation's first message.
    assert [r.period_start for r in m.ttfr(m.Scope(since=date(2026, 4, 2)), "day")] == [
        date(2026, 4, 2),
        date(2026, 4, 2),
    ]
    assert m.ttfr(m.Scope(until=date(2026, 3, 2))) == []


def test_it_stores_response_times_to_the_microsecond(community: Community) -> None:
    ann, ben = community.member("Ann"), community.member("Ben")
    # Fractions either side of the second, so whole seconds and microseconds both borrow.
    for start, later in (
        (START.replace(microsecond=900_001), timedelta(seconds=3, microseconds=200_123)),
        (START, timedelta(days=40, seconds=1, microseconds=7)),
        (START.replace(microsecond=5), timedelta(microseconds=999_990)),
    ):
        talk = community.conversation(at=start)
        community.say(talk, ann)
        community.act(ben, start + later, conversation=talk, kind=InteractionKind.REPLY)
    refresh_states()
    states = ConversationState.objects.filter(first_response_at__isnull=False)
    assert states.count() == 3
    for state in states:
        assert state.first_response_at is not None
        # Exactly what Python computes, so the figures match an independent reading.
        assert state.response_seconds == (state.first_response_at - state.opened_at).total_seconds()
    assert ConversationState.objects.filter(response_seconds__isnull=True).count() == 0


def test_it_fills_response_times_of_an_older_rollup(community: Community) -> None:
    import importlib
    from types import SimpleNamespace

    from django.db import connection

    ann, ben = community.member("Ann"), community.member("Ben")
    talk = community.conversation()
    community.say(talk, ann)
    community.say(talk, ben, 12.5, kind=InteractionKind.REPLY)
    refresh_states()
    ConversationState.objects.update(response_seconds=None)
    migration = importlib.import_module("townsquare.inbox.migrations.0003_response_seconds")
    migration.fill_response_seconds(None, SimpleNamespace(connection=connection))
    assert ConversationState.objects.get().response_seconds == 750.0


def test_it_groups_interleaved_channels_and_periods(community: Community) -> None:
    """Conversations of two channels and several weeks opened in a mixed order, with response
    times in no particular order and some without a response: each group's figures are those
    of its own conversations, as a plain reading of the rollup computes them."""
    ann, ben = community.member("Ann"), community.member("Ben")
    other = Channel.objects.create(source=community.source, external_id="C2", name="random")
    for n in range(40):
        channel = other if n % 3 == 0 else community.channel
        talk = community.conversation(at=START + timedelta(hours=7 * n), channel=channel)
        community.say(talk, ann)
        if n % 5 != 4:
            community.say(talk, ben, (n * 37) % 23 + 1, kind=InteractionKind.REPLY)
    refresh_states()
    want: dict[tuple[str | None, date], list[float]] = {}
    totals: dict[tuple[str | None, date], int] = {}
    for state in ConversationState.objects.select_related("channel"):
        week = state.opened_at.date() - timedelta(days=state.opened_at.weekday())
        assert state.channel is not None
        for key in ((None, week), (state.channel.name, week)):
            totals[key] = totals.get(key, 0) + 1
            values = want.setdefault(key, [])
            if state.first_response_at is not None:
                values.append((state.first_response_at - state.opened_at).total_seconds())
    got = m.ttfr(m.Scope(), "week")
    assert {(r.channel, r.period_start) for r in got} == set(totals)
    assert len({r.channel for r in got}) == 3
    for row in got:
        values = sorted(want[(row.channel, row.period_start)])
        assert row.conversations == totals[(row.channel, row.period_start)]
        assert row.responded == len(values)
        assert row.median_seconds == m.percentile(values, 0.5)
        assert row.p90_seconds == m.percentile(values, 0.9)


def test_percentile_interpolates_between_ranks() -> None:
    assert m.percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert m.percentile([10.0], 0.9) == 10.0
    assert m.percentile([], 0.5) is None


def test_it_counts_unanswered_conversations_older_than_n_hours(community: Community) -> None:
    ann, ben = community.member("Ann"), community.member("Ben")
    now = START + timedelta(hours=24)
    waiting = community.conversation()  # opened exactly 24 h before now: included
    community.say(waiting, ann)
    community.say(waiting, ann, 60, kind=InteractionKind.REPLY)  # the author's own reply
    community.say(waiting, community.member("Bot", bot=True), 61, kind=InteractionKind.REPLY)
    recent = community.conversation(at=START + timedelta(minutes=1))
    community.say(recent, ann)
    answered = community.conversation()
    community.say(answered, ann)
    community.say(answered, ben, 5, kind=InteractionKind.REPLY)
    refresh_states()
    result = m.unanswered(m.Scope(), hours=24, now=now)
    assert result.total == 1 and result.per_channel == {"help": 1}
    assert m.unanswered(m.Scope(), hours=0, now=now).total == 2
    ConversationState.objects.filter(conversation=waiting).update(
        awaiting_reply=False, answered_at=now
    )
    assert m.unanswered(m.Scope(), hours=24, now=now).total == 0


# New members, retention, active members ------------------------------------------------------


def test_it_takes_a_merged_members_earliest_interaction(community: Community) -> None:
    ann, ann_other = community.member("Ann"), community.member("Ann at work")
    community.act(ann, at("2026-03-10"))
    community.act(ann_other, at("2026-02-20"))
    assert m.new_members(m.Scope()) == {date(2026, 2, 1): 1, date(2026, 3, 1): 1}
    do_merge_members(target=ann, others=[ann_other], actor=None, reason="same person")
    # One member, first seen in February; the member merged away is not counted apart.
    assert m.new_members(m.Scope()) == {date(2026, 2, 1): 1}


def test_it_counts_new_members_per_month_without_staff_and_bots(community: Community) -> None:
    ann, ben = community.member("Ann"), community.member("Ben")
    community.act(ann, at("2026-01-31", "23:59:59"))
    community.act(ann, at("2026-03-01"), kind=InteractionKind.REACTION)
    community.act(ben, at("2026-03-01", "00:00:00"), kind=InteractionKind.JOIN)
    community.act(community.member("Staff", team=True), at("2026-02-02"))
    community.act(community.member("Bot", bot=True), at("2026-02-02"))
    assert m.new_members(m.Scope()) == {
        date(2026, 1, 1): 1,
        date(2026, 2, 1): 0,
        date(2026, 3, 1): 1,
    }
    assert m.new_members(m.Scope(since=date(2026, 2, 1))) == {date(2026, 3, 1): 1}
    assert m.new_members(m.Scope(until=date(2026, 3, 1))) == {date(2026, 1, 1): 1}


def test_it_counts_active_members_over_the_day_week_and_30_days(community: Community) -> None:
    day = date(2026, 3, 31)
    people = [community.member(f"P{n}") for n in range(5)]
    community.act(people[0], at("2026-03-31", "23:59:59"))
    community.act(people[1], at("2026-03-25", "00:00:00"))  # 7th day back: in the week
    community.act(people[2], at("2026-03-24", "23:59:59"))  # 8th day back: not
    community.act(people[3], at("2026-03-02", "00:00:00"), kind=InteractionKind.REACTION)
    community.act(people[4], at("2026-03-01", "23:59:59"))  # 31st day back: not
    community.act(people[0], at("2026-04-01", "00:00:00"))  # the next day: not
    community.act(community.member("Staff", team=True), at("2026-03-31"))
    result = m.active_members(m.Scope(), day)
    assert (result.dau, result.wau, result.mau) == (1, 2, 4)
    assert result.dau_mau == 25.0


def test_it_gives_dau_mau_0_when_mau_is_0(community: Community) -> None:
    result = m.active_members(m.Scope(), date(2026, 3, 31))
    assert (result.dau, result.mau, result.dau_mau) == (0, 0, 0.0)


def test_it_counts_daily_active_members(community: Community) -> None:
    ann, ben = community.member("Ann"), community.member("Ben")
    community.act(ann, at("2026-03-01"))
    community.act(ann, at("2026-03-01", "18:00:00"))
    community.act(ben, at("2026-03-01"), kind=InteractionKind.REACTION)
    community.act(ben, at("2026-03-03"))
    assert m.daily_active(m.Scope()) == {date(2026, 3, 1): 2, date(2026, 3, 3): 1}


def test_it_builds_retention_cohorts(community: Community) -> None:
    ann, ben, cat = (community.member(n) for n in ("Ann", "Ben", "Cat"))
    community.act(ann, at("2026-01-05"))
    community.act(ben, at("2026-01-20"))
    community.act(ann, at("2026-02-05"))
    community.act(ann, at("2026-03-05"))
    community.act(ben, at("2026-03-06"))
    community.act(cat, at("2026-02-10"))
    [january, february] = m.retention(m.Scope())
    assert january.month == date(2026, 1, 1) and january.members == 2
    assert january.active == [2, 1, 2] and january.retained == [1.0, 0.5, 1.0]
    assert february.active == [1, 0] and february.retained == [1.0, 0.0]


# Drifting away and inactive members ----------------------------------------------------------


def _five(community: Community, name: str, last: datetime, count: int = 5) -> Member:
    person = community.member(name)
    for n in range(count - 1):
        community.act(person, at("2025-06-01") + timedelta(days=n))
    community.act(person, last)
    return person


def test_it_finds_members_drifting_away_at_the_window_ends(community: Community) -> None:
    # As of 2026-07-01 (excluded): the last 3 months start 2026-04-01, the last 6 2026-01-01.
    _five(community, "Before recent", at("2026-03-31", "23:59:59"))
    _five(community, "Recent start", at("2026-04-01", "00:00:00"))
    _five(community, "Window start", at("2026-01-01", "00:00:00"))
    _five(community, "Before window", at("2025-12-31", "23:59:59"))
    _five(community, "Only four", at("2026-02-01"), count=4)
    result = m.drifting_away(m.Scope(until=date(2026, 7, 1)))
    assert (result.recent_since, result.window_since) == (date(2026, 4, 1), date(2026, 1, 1))
    assert [p.name for p in result.members] == ["Before recent", "Window start"]


def test_it_ignores_interactions_after_the_end_for_drifting(community: Community) -> None:
    person = _five(community, "Back later", at("2026-02-01"))
    community.act(person, at("2026-07-01", "00:00:00"))
    assert len(m.drifting_away(m.Scope(until=date(2026, 7, 1))).members) == 1
    assert m.drifting_away(m.Scope(until=date(2026, 7, 2))).members == []


def test_it_counts_inactive_members_in_the_month_of_their_last_interaction(
    community: Community,
) -> None:
    # As of 2026-07-01, 90 days: the last interaction must be before 2026-04-02 00:00.
    community.act(community.member("Exactly"), at("2026-04-02", "00:00:00"))
    community.act(community.member("Just before"), at("2026-04-01", "23:59:59"))
    community.act(community.member("January"), at("2026-01-15"))
    community.act(community.member("Staff", team=True), at("2026-01-15"))
    result = m.inactive_members(m.Scope(until=date(2026, 7, 1)), days=90)
    assert result.per_month == {date(2026, 1, 1): 1, date(2026, 4, 1): 1}
    since = m.inactive_members(m.Scope(since=date(2026, 2, 1), until=date(2026, 7, 1)))
    assert since.per_month == {date(2026, 4, 1): 1}


def test_add_months_clamps_to_the_months_last_day() -> None:
    assert m.add_months(date(2026, 5, 31), -3) == date(2026, 2, 28)
    assert m.add_months(date(2026, 1, 15), -6) == date(2025, 7, 15)


# Sentiment trend and activity heatmap --------------------------------------------------------


def _label(message: Any, label: str, score: float | None) -> None:
    Enrichment.objects.create(
        interaction=message,
        analyzed=True,
        version_key="test",
        enriched_at=timezone.now(),
        sentiment=score,
        sentiment_label=label,
    )


def test_it_excludes_and_counts_unsupported_languages(community: Community) -> None:
    ann = community.member("Ann")
    _label(community.act(ann, at("2026-03-02")), "positive", 0.6)
    _label(community.act(ann, at("2026-03-03")), "negative", -0.4)
    _label(community.act(ann, at("2026-03-04")), "unsupported", None)
    rows = m.sentiment_trend(m.Scope(), "month")
    overall = [r for r in rows if r.channel is None]
    assert len(overall) == 1
    assert overall[0].mean_compound == pytest.approx(0.1)
    assert overall[0].negative_share == 0.5
    assert overall[0].unsupported == 1
    assert [r.channel for r in rows] == [None, "help"]


def test_it_draws_the_heatmap_in_utc_and_the_community_time_zone(
    community: Community, settings: Any
) -> None:
    settings.COMMUNITY_TIME_ZONE = "America/New_York"
    ann = community.member("Ann")
    community.act(ann, at("2026-03-02", "03:00:00"))  # a Monday in UTC, Sunday 22:00 in New York
    community.act(ann, at("2026-03-02", "03:30:00"), kind=InteractionKind.REACTION)
    heatmap = m.activity_heatmap(m.Scope())
    assert heatmap.utc[0][3] == 1 and sum(map(sum, heatmap.utc)) == 1
    assert heatmap.local[6][22] == 1 and heatmap.time_zone == "America/New_York"


def test_it_refuses_an_unknown_channel(community: Community) -> None:
    with pytest.raises(m.ScopeError, match="--channel"):
        m.new_members(m.Scope(channel="nowhere"))
    with pytest.raises(m.ScopeError, match="--source"):
        m.new_members(m.Scope(source="nowhere"))
