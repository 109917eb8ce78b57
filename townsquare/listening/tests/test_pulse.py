"""Trends per channel and period, and topics with their lift, on small real imports: every
figure is checked against one the test computes itself from the stored rows."""

from __future__ import annotations

import io
import json
from collections import Counter, defaultdict
from datetime import UTC, date
from pathlib import Path
from statistics import fmean
from typing import Any

import pytest
from django.core.management import call_command

from townsquare.community.models import Interaction, Member
from townsquare.listening import pulse
from townsquare.listening.models import Enrichment
from townsquare.listening.tests.pulse_exports import (
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    import_and_enrich,
    message,
    ts,
)

pytestmark = pytest.mark.django_db

GERMAN = "Das ist wirklich eine sehr schöne und hilfreiche Dokumentation, vielen Dank dafür"


@pytest.fixture(autouse=True)
def no_background_tasks(settings: Any) -> None:
    """Imports queue enrichment; these tests run it themselves."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@pytest.fixture
def town(tmp_path: Path) -> None:
    """Two channels over two ISO weeks (Monday 4 March 2024 to Monday 11 March), with a bot,
    a staff member, a reaction and a message in a language VADER cannot judge."""
    import_and_enrich(
        tmp_path / "export",
        {
            "general": [
                message(ts("2024-03-04", 10), "U1", POSITIVE),
                message(ts("2024-03-04", 11), "U2", NEGATIVE),
                message(ts("2024-03-04", 12), "U4", "Welcome everyone, I run this workspace"),
                message(ts("2024-03-04", 13), "UB", "Deployment finished without errors"),
                message(ts("2024-03-05", 9), "U3", GERMAN),
                message(ts("2024-03-05", 10), "U1", NEUTRAL, reactions={"eyes": ["U2", "U3"]}),
                # Sunday: still the week of 4 March; Monday 11 March starts the next one.
                message(ts("2024-03-10", 23, 59), "U2", NEGATIVE + " today"),
                message(ts("2024-03-11", 0, 1), "U1", POSITIVE + " again"),
            ],
            "support": [
                message(ts("2024-03-04", 15), "U3", "My docker container will not start at all"),
                message(ts("2024-03-04", 16), "U2", "Restart docker and check the logs please"),
            ],
        },
    )
    Member.objects.filter(identities__handle="dan").update(is_team=True)


MESSAGE_KINDS = set(pulse.MESSAGE_KINDS)
SUPPORTED = set(pulse.SUPPORTED_LABELS)


def expected(
    since: date, until: date, period: pulse.Period
) -> dict[tuple[int | None, date], dict[str, Any]]:
    """The figures per (channel, bucket), computed row by row in Python from the ORM."""
    cells: dict[tuple[int | None, date], dict[str, Any]] = defaultdict(
        lambda: {"volume": 0, "sentiments": [], "negative": 0, "supported": 0, "unsupported": 0}
    )
    active: dict[tuple[int | None, date], set[int]] = defaultdict(set)
    labels = {e.interaction_id: (e.sentiment_label, e.sentiment) for e in Enrichment.objects.all()}
    for i in Interaction.objects.select_related("member"):
        day = i.created_at.astimezone(UTC).date()
        if not since <= day < until:
            continue
        key = (i.channel_id, pulse.bucket_start(day, period))
        if i.member and not i.member.is_team and not i.member.is_bot:
            active[key].add(i.member.pk)
        if i.kind not in MESSAGE_KINDS:
            continue
        cell = cells[key]
        cell["volume"] += 1
        label, sentiment = labels.get(i.pk, ("", None))
        if label in SUPPORTED:
            cell["supported"] += 1
            cell["negative"] += label == "negative"
            if sentiment is not None:
                cell["sentiments"].append(sentiment)
        elif label == "unsupported":
            cell["unsupported"] += 1
    for key, members in active.items():
        cells[key]["active"] = len(members)
    return cells


def assert_matches(data: pulse.Trends) -> None:
    want = expected(data.since, data.until, data.period)
    seen = set()
    for trend in data.channels:
        for bucket in trend.buckets:
            assert bucket.start is not None
            key = (trend.channel_id, bucket.start)
            seen.add(key)
            cell = want.get(key, {"volume": 0, "sentiments": [], "negative": 0, "supported": 0})
            assert bucket.volume == cell["volume"], key
            assert bucket.active_members == cell.get("active", 0), key
            assert bucket.supported == cell["supported"], key
            assert bucket.negative == cell["negative"], key
            assert bucket.unsupported == cell.get("unsupported", 0), key
            if cell["sentiments"]:
                assert bucket.mean_sentiment == pytest.approx(fmean(cell["sentiments"]))
            else:
                assert bucket.mean_sentiment is None
            if cell["supported"]:
                assert bucket.negative_share == pytest.approx(cell["negative"] / cell["supported"])
    assert set(want) <= seen


def channel(data: pulse.Trends, name: str) -> pulse.Trend:
    return next(t for t in data.channels if t.name == name)


@pytest.mark.usefixtures("town")
def test_it_computes_daily_trends_per_channel() -> None:
    data = pulse.trends(date(2024, 3, 4), date(2024, 3, 12), "day")

    assert_matches(data)
    general = channel(data, "general")
    assert [b.start for b in general.buckets][:2] == [date(2024, 3, 4), date(2024, 3, 5)]
    assert len(general.buckets) == 8  # every day, quiet ones included
    monday = general.buckets[0]
    # Four messages, but only Ada and Bob count as active: Dan is staff, the bot is a bot.
    assert monday.volume == 4
    assert monday.active_members == 2
    # Tuesday: a reaction makes Bob active without adding volume.
    tuesday = general.buckets[1]
    assert tuesday.volume == 2
    assert tuesday.active_members == 3
    assert general.buckets[2].volume == 0


@pytest.mark.usefixtures("town")
def test_it_counts_messages_it_cannot_judge_apart_from_the_sentiment() -> None:
    german = Enrichment.objects.get(interaction__text=GERMAN)
    assert german.sentiment_label == "unsupported"

    data = pulse.trends(date(2024, 3, 5), date(2024, 3, 6), "day")

    tuesday = channel(data, "general").buckets[0]
    assert tuesday.unsupported == 1
    # Only the neutral English message is judged: the German one is neither neutral nor negative.
    assert tuesday.supported == 1
    assert tuesday.mean_sentiment == pytest.approx(
        Enrichment.objects.get(interaction__text=NEUTRAL).sentiment
    )


@pytest.mark.usefixtures("town")
def test_it_groups_by_iso_week_and_by_month() -> None:
    weekly = pulse.trends(date(2024, 3, 4), date(2024, 3, 18), "week")
    assert_matches(weekly)
    general = channel(weekly, "general")
    assert [b.start for b in general.buckets] == [date(2024, 3, 4), date(2024, 3, 11)]
    # Sunday 23:59 is in the first week, Monday 00:01 in the second.
    assert [b.volume for b in general.buckets] == [7, 1]

    monthly = pulse.trends(date(2024, 2, 1), date(2024, 4, 1), "month")
    assert_matches(monthly)
    assert [b.start for b in channel(monthly, "general").buckets] == [
        date(2024, 2, 1),
        date(2024, 3, 1),
    ]
    # Over the range, each member counts once in "all channels" however many channels.
    assert monthly.overall.total.active_members == 3
    assert monthly.overall.total.volume == 10


@pytest.mark.usefixtures("town")
def test_it_keeps_only_the_channels_asked_for() -> None:
    support = Interaction.objects.filter(text__contains="docker").first()
    assert support is not None and support.channel_id is not None

    data = pulse.trends(date(2024, 3, 4), date(2024, 3, 12), channel_ids=[support.channel_id])

    assert [t.name for t in data.channels] == ["support"]
    assert data.overall.total.volume == 2


@pytest.mark.usefixtures("town")
def test_it_prints_the_trends_as_json() -> None:
    out = io.StringIO()
    call_command(
        "pulse", "--since", "2024-03-04", "--until", "2024-03-17", "--period", "week", "--json",
        stdout=out,
    )  # fmt: skip

    printed = json.loads(out.getvalue())
    assert printed["period"] == "week"
    general = next(c for c in printed["channels"] if c["channel"] == "general")
    assert [b["volume"] for b in general["buckets"]] == [7, 1]
    assert printed["overall"]["total"]["unsupported"] == 1

    text = io.StringIO()
    call_command("pulse", "--since", "2024-03-04", "--until", "2024-03-11", stdout=text)
    assert "#general (town)" in text.getvalue()
    assert "unsupported" in text.getvalue()


def test_it_computes_the_lift_with_smoothing() -> None:
    # 10 of 100 messages now, 5 of 100 before: twice the share, a little less once smoothed.
    assert pulse.lift(10, 100, 5, 100) == pytest.approx((11 / 102) / (6 / 102))
    # New since the previous period: finite.
    assert pulse.lift(3, 50, 0, 50) == pytest.approx((4 / 52) / (1 / 52))
    # Nothing to compare: no change.
    assert pulse.lift(0, 0, 0, 0) == 1.0


@pytest.fixture
def topical(tmp_path: Path) -> None:
    """Docker all through, Kubernetes only in the second week, one-offs below the minimum."""
    first = [
        message(ts("2024-04-01", 9, n), "U1", "docker compose file is slow today") for n in range(2)
    ] + [message(ts("2024-04-02", 9, n), "U2", "weekly meeting notes are posted") for n in range(3)]
    second = (
        [message(ts("2024-04-08", 9, n), "U1", "docker compose file is broken") for n in range(4)]
        + [
            message(ts("2024-04-09", 9, n), "U2", "kubernetes cluster upgrade planned")
            for n in range(3)
        ]
        + [message(ts("2024-04-10", 9), "U3", "zeppelin notebook question")]
    )
    import_and_enrich(tmp_path / "export", {"general": first + second})


def keyword_counts(since: date, until: date, member: int | None = None) -> tuple[Counter[str], int]:
    counts: Counter[str] = Counter()
    messages = 0
    for e in Enrichment.objects.filter(analyzed=True).select_related("interaction"):
        day = e.interaction.created_at.astimezone(UTC).date()
        if not since <= day < until or (member and e.interaction.member_id != member):
            continue
        messages += 1
        counts.update(e.keywords)
    return counts, messages


@pytest.mark.usefixtures("topical")
def test_it_finds_the_topics_of_a_period_with_their_lift() -> None:
    since, until = date(2024, 4, 8), date(2024, 4, 15)
    now, n = keyword_counts(since, until)
    before, n_before = keyword_counts(date(2024, 4, 1), since)

    found = pulse.topics(since, until, limit=50)

    want = {k for k, c in now.items() if c >= pulse.MIN_TOPIC_COUNT}
    assert {t.keyword for t in found} == want
    # Keywords are words and two-word phrases.
    assert "docker compose" in want and "kubernetes cluster" in want
    assert not any("zeppelin" in k for k in want)  # once only
    for t in found:
        assert (t.count, t.messages) == (now[t.keyword], n)
        assert (t.previous_count, t.previous_messages) == (before[t.keyword], n_before)
        assert t.lift == pytest.approx(pulse.lift(now[t.keyword], n, before[t.keyword], n_before))
    by_name = {t.keyword: t for t in found}
    assert by_name["kubernetes cluster"].is_new and by_name["kubernetes cluster"].lift > 1
    assert by_name["docker compose"].previous_count == 2
    assert by_name["docker compose"].lift < by_name["kubernetes cluster"].lift
    # Most frequent first.
    assert [t.count for t in found] == sorted((t.count for t in found), reverse=True)


@pytest.mark.usefixtures("topical")
def test_it_finds_the_topics_of_a_member_and_of_each_channel() -> None:
    ada = Member.objects.get(identities__handle="ada")
    since, until = date(2024, 4, 8), date(2024, 4, 15)
    now, _ = keyword_counts(since, until, ada.pk)

    mine = pulse.topics(since, until, member_id=ada.pk)

    assert {t.keyword for t in mine} == {k for k, c in now.items() if c >= 3}
    assert "kubernetes cluster" not in {t.keyword for t in mine}  # Bob's topic, not Ada's
    assert "docker compose" in {t.keyword for t in mine}
    per_channel = pulse.topics_by_channel(since, until)
    assert len(per_channel) == 1
    (general,) = per_channel.values()
    assert [t.keyword for t in general] == [t.keyword for t in pulse.topics(since, until)][:5]
