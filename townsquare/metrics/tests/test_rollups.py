"""The rollup tables stay equal to a direct count of the interactions through everything that
changes them: imports (a first one, a second with edits), enrichment, merges and erasure.
Each check compares the table with a count in Python over the rows, and the rollup-backed
metrics with their direct computation (the pulse's trends, the per-message heatmap)."""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from townsquare.community.models import Channel, Interaction, InteractionKind, Member, Source
from townsquare.community.privacy import do_erase_member
from townsquare.community.services import do_merge_members, do_unmerge_member
from townsquare.connectors.models import ImportRun
from townsquare.connectors.records import (
    ChannelRecord,
    IdentityRecord,
    InteractionRecord,
    Record,
)
from townsquare.connectors.writer import Writer
from townsquare.inbox.rollup import refresh_states
from townsquare.lib.testing import make_staff
from townsquare.listening import pulse
from townsquare.listening.analyzers.registry import get_analyzer
from townsquare.listening.models import Enrichment, SentimentLabel
from townsquare.listening.pipeline import enrich_pending
from townsquare.listening.pulse import MESSAGE_KINDS, SUPPORTED_LABELS, trends
from townsquare.listening.services import do_correct_label
from townsquare.metrics import definitions as m
from townsquare.metrics import rollups
from townsquare.metrics.models import (
    DailyKeywords,
    DailyMemberActivity,
    HourlyMessages,
    MemberFirstSeen,
    MonthlyKeywords,
    MonthlyMemberActivity,
)
from townsquare.metrics.rollups import (
    _distinct_hours,
    hour_of,
    hour_runs,
    refresh_days,
    refresh_times,
    runs,
)
from townsquare.moderation.models import ModerationItem
from townsquare.moderation.services import do_moderate
from townsquare.staff.models import Role

T0 = datetime(2026, 3, 1, 22, 30, tzinfo=UTC)  # a Sunday evening
SINCE, UNTIL = date(2026, 2, 1), date(2026, 4, 1)


def write(records: list[Record]) -> None:
    source = Source.objects.get_or_create(name="workspace", platform="slack")[0]
    run = ImportRun.objects.create(source=source, format="slack", path="memory")
    writer = Writer(run=run, source=source, batch_size=3)
    for record in records:
        writer.add(record)
    writer.finish()


def say(ext: str, author: str, hours: float, text: str, **kw: Any) -> InteractionRecord:
    fields: dict[str, Any] = {
        "kind": InteractionKind.MESSAGE,
        "created_at": T0 + timedelta(hours=hours),
        "author_id": author,
        "channel_id": "C1",
        "conversation_id": ext,
        "text": text,
    }
    fields.update(kw)
    return InteractionRecord(external_id=ext, **fields)


def export() -> list[Record]:
    return [
        ChannelRecord(external_id="C1", name="help"),
        ChannelRecord(external_id="C2", name="random"),
        IdentityRecord(external_id="U1", display_name="Ann"),
        IdentityRecord(external_id="U2", display_name="Ben"),
        IdentityRecord(external_id="U3", display_name="Bot", is_bot=True),
        say("m1", "U1", 0, "I love this, thank you so much!"),
        say("m2", "U2", 0.5, "This is terrible and broken, I hate it.", conversation_id="m1"),
        say("m3", "U1", 1.2, "Where is the documentation?", channel_id="C2"),
        say("m4", "U3", 3, "Build passed."),
        say("m5", "U2", 26, "Great answer, works perfectly."),
        say("r1", "U1", 26.1, "", kind=InteractionKind.REACTION),
        say("m6", "U2", 24 * 9 + 5, "Que pasa con el servidor hoy?", channel_id=None),
        say("m7", "U1", 24 * 20, "A question about the API", kind=InteractionKind.POST),
        say("k1", "U1", 24 * 2, "The deployment documentation is outdated again."),
        say("k2", "U2", 24 * 2 + 3, "Deployment documentation: which page?", channel_id="C2"),
        say("k3", "U1", 24 * 4, "I rewrote the deployment documentation page."),
        say("k4", "U2", 24 * -3, "Old deployment documentation notes."),
    ]


def direct_rows() -> dict[tuple[datetime, int, int | None], tuple[int, int, int, float, int, int]]:
    """The rollup's rows as counted here, message by message."""
    labels = dict(Enrichment.objects.values_list("interaction_id", "sentiment_label"))
    scores = dict(Enrichment.objects.values_list("interaction_id", "sentiment"))
    cells: dict[tuple[datetime, int, int | None], list[float]] = defaultdict(
        lambda: [0, 0, 0, 0.0, 0, 0]
    )
    for i in Interaction.objects.filter(kind__in=MESSAGE_KINDS):
        hour = i.created_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        cell = cells[(hour, i.source_id, i.channel_id)]
        label = labels.get(i.pk)
        cell[0] += 1
        if label in SUPPORTED_LABELS:
            cell[1] += 1
            score = scores.get(i.pk)
            if score is not None:
                cell[2] += 1
                cell[3] += score
        cell[4] += label == SentimentLabel.NEGATIVE
        cell[5] += label == SentimentLabel.UNSUPPORTED
    return {
        k: (int(c[0]), int(c[1]), int(c[2]), round(c[3], 9), int(c[4]), int(c[5]))
        for k, c in cells.items()
    }


def rollup_rows() -> dict[tuple[datetime, int, int | None], tuple[int, int, int, float, int, int]]:
    return {
        (r.hour.astimezone(UTC), r.source_id, r.channel_id): (
            r.messages,
            r.supported,
            r.scored,
            round(r.sentiment_sum, 9),
            r.negative,
            r.unsupported,
        )
        for r in HourlyMessages.objects.all()
    }


def _r(value: float | None) -> float | None:
    """Sums taken in another order may differ in the last bits."""
    return None if value is None else round(value, 9)


def member_rows() -> tuple[Counter[tuple[Any, ...]], Counter[tuple[Any, ...]]]:
    """The daily and monthly member rows, as stored and as counted here (keys summed)."""
    stored_daily: Counter[tuple[Any, ...]] = Counter()
    for r in DailyMemberActivity.objects.all():
        stored_daily[(r.day, r.source_id, r.channel_id, r.member_id)] += r.interactions
    stored_monthly: Counter[tuple[Any, ...]] = Counter()
    for row in MonthlyMemberActivity.objects.all():
        stored_monthly[(row.month, row.source_id, row.channel_id, row.member_id)] += (
            row.interactions
        )
    return stored_daily, stored_monthly


def direct_member_rows() -> tuple[Counter[tuple[Any, ...]], Counter[tuple[Any, ...]]]:
    daily: Counter[tuple[Any, ...]] = Counter()
    monthly: Counter[tuple[Any, ...]] = Counter()
    for i in Interaction.objects.filter(member__isnull=False):
        day = i.created_at.astimezone(UTC).date()
        daily[(day, i.source_id, i.channel_id, i.member_id)] += 1
        monthly[(day.replace(day=1), i.source_id, i.channel_id, i.member_id)] += 1
    return daily, monthly


def counted(scope: m.Scope) -> list[Interaction]:
    """The interactions the member metrics count in a bounded scope, read one by one."""
    assert scope.since is not None and scope.until is not None
    start = datetime.combine(scope.since, datetime.min.time(), tzinfo=UTC)
    end = datetime.combine(scope.until, datetime.min.time(), tzinfo=UTC)
    wanted = set(scope.members.values_list("pk", flat=True)) if scope.members is not None else None
    return [
        i
        for i in Interaction.objects.filter(
            created_at__gte=start,
            created_at__lt=end,
            member__is_team=False,
            member__is_bot=False,
        )
        if (wanted is None or i.member_id in wanted)
        and (scope.channel is None or (i.channel is not None and i.channel.name == scope.channel))
    ]


def assert_first_days_consistent() -> None:
    stored = {
        (r.member_id, r.source_id, r.channel_id): r.first_day for r in MemberFirstSeen.objects.all()
    }
    direct: dict[tuple[Any, ...], date] = {}
    for i in Interaction.objects.filter(member__isnull=False):
        key = (i.member_id, i.source_id, i.channel_id)
        day = i.created_at.astimezone(UTC).date()
        direct[key] = min(direct.get(key, day), day)
    assert stored == direct
    counted_members = Member.objects.filter(is_team=False, is_bot=False)
    for channel in (None, "help"):
        first: dict[int | None, date] = {}
        for i in Interaction.objects.filter(member__in=counted_members):
            if channel is None or (i.channel is not None and i.channel.name == channel):
                day = i.created_at.astimezone(UTC).date()
                first[i.member_id] = min(first.get(i.member_id, day), day)
        per_day = Counter(first.values())
        found = m.new_members(m.Scope(channel=channel), "day")
        assert {d: n for d, n in found.items() if n} == dict(per_day)
        cohorts = m.retention(m.Scope(channel=channel))
        assert {c.month: c.members for c in cohorts} == dict(
            Counter(d.replace(day=1) for d in first.values())
        )


def assert_member_metrics_consistent() -> None:
    assert member_rows() == direct_member_rows()
    assert_first_days_consistent()
    segment = Member.objects.filter(display_name__in=["Ann", "Ben"])
    for since, until in ((SINCE, UNTIL), (date(2026, 3, 1), date(2026, 3, 3))):
        for scope in (
            m.Scope(since=since, until=until),
            m.Scope(since=since, until=until, channel="help"),
            m.Scope(since=since, until=until, members=segment),
        ):
            per_member = Counter(i.member_id for i in counted(scope))
            assert m._member_counts(scope) == sorted(per_member.values(), reverse=True)
            for day in (date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 15)):
                window = replace(scope, since=day - timedelta(days=29), until=day + timedelta(1))
                seen = counted(window)

                def active(days: int, seen: list[Interaction] = seen, day: date = day) -> int:
                    first = day - timedelta(days=days - 1)
                    return len({i.member_id for i in seen if i.created_at.date() >= first})

                figures = m.active_members(scope, day)
                assert (figures.dau, figures.wau, figures.mau) == (active(1), active(7), active(30))


def keyword_rows() -> tuple[Counter[tuple[Any, ...]], Counter[tuple[Any, ...]]]:
    """The daily keyword rows as stored and as counted here ('' : the analyzed messages)."""
    stored: Counter[tuple[Any, ...]] = Counter()
    for r in DailyKeywords.objects.all():
        stored[(r.day, r.source_id, r.channel_id, r.keyword)] += r.messages
    direct: Counter[tuple[Any, ...]] = Counter()
    visible = Enrichment.objects.filter(analyzed=True, interaction__kind__in=MESSAGE_KINDS).exclude(
        interaction__moderation__is_hidden=True
    )
    for e in visible:
        i = e.interaction
        key = (i.created_at.astimezone(UTC).date(), i.source_id, i.channel_id)
        direct[(*key, "")] += 1
        for keyword in e.keywords:
            direct[(*key, keyword)] += 1
    return stored, direct


def assert_topics_consistent() -> None:
    stored, direct = keyword_rows()
    assert stored == direct
    monthly: Counter[tuple[Any, ...]] = Counter()
    for r in MonthlyKeywords.objects.all():
        monthly[(r.month, r.source_id, r.channel_id, r.keyword)] += r.messages
    expected: Counter[tuple[Any, ...]] = Counter()
    for (day, *rest), n in direct.items():
        expected[(day.replace(day=1), *rest)] += n
    assert monthly == expected
    help_channel = list(Channel.objects.filter(name="help").values_list("id", flat=True))
    for since, until in (
        (SINCE, UNTIL),
        (date(2026, 3, 1), date(2026, 3, 4)),
        (date(2026, 2, 27), date(2026, 3, 31)),
        (date(2026, 3, 3), date(2026, 5, 2)),
    ):
        found = m.topics(m.Scope(since=since, until=until), limit=50)
        assert found == pulse.topics(since, until, limit=50)
        assert m.topics(m.Scope(since=since, until=until, channel="help"), limit=50) == (
            pulse.topics(since, until, channel_ids=help_channel, limit=50)
        )


def assert_consistent() -> None:
    assert rollup_rows() == direct_rows()
    assert_member_metrics_consistent()
    assert_topics_consistent()
    for period in ("day", "week", "month"):
        scope = m.Scope(since=SINCE, until=UNTIL)
        # The pulse's overall figures, counted message by message.
        overall = trends(SINCE, UNTIL, period).overall.buckets
        direct = [
            (f.start, f.volume, _r(f.mean_sentiment), f.negative_share, f.unsupported)
            for f in overall
        ]
        found = [
            (p.period_start, p.messages, _r(p.mean_compound), p.negative_share, p.unsupported)
            for p in m.sentiment_trend(scope, period, channels=False)
        ]
        assert found == direct
        assert list(m.activity(scope, period).values()) == [f.volume for f in overall]
    messages = Interaction.objects.filter(kind__in=MESSAGE_KINDS)
    for name in ("UTC", "America/New_York", "Asia/Tokyo"):
        heatmap = m._hourly_histograms(m._resolve(m.Scope()), m.Scope(), ZoneInfo(name))
        assert heatmap is not None
        assert heatmap[0] == m._histogram(messages, ZoneInfo("UTC"))
        assert heatmap[1] == m._histogram(messages, ZoneInfo(name))


@pytest.fixture
def imported(db: None) -> None:
    write(export())
    enrich_pending()


def test_an_import_and_its_enrichment_fill_the_rollups(imported: None) -> None:
    assert HourlyMessages.objects.exists()
    # The deployment messages make a topic of their period: the comparisons are not empty.
    assert m.topics(m.Scope(since=date(2026, 3, 1), until=date(2026, 3, 8)))
    assert Enrichment.objects.filter(sentiment_label=SentimentLabel.NEGATIVE).exists()
    assert_consistent()


def test_a_second_import_with_edits_recounts_the_days_it_touched(imported: None) -> None:
    edited = [
        # Moved to another day and channel, rewritten; a new message; a removed reaction
        # is no message, so nothing else moves.
        say("m2", "U2", 24 * 3, "All good now, thanks!", channel_id="C2")
        if isinstance(r, InteractionRecord) and r.external_id == "m2"
        else r
        for r in export()
    ] + [say("m8", "U1", 24 * 3 + 1, "Another message")]
    write(edited)
    assert_consistent()  # before enrichment: the edited text has no fresh label yet
    enrich_pending()
    assert_consistent()


def test_merges_and_erasure_keep_the_rollups(imported: None) -> None:
    ann, ben = Member.objects.get(display_name="Ann"), Member.objects.get(display_name="Ben")
    do_merge_members(target=ann, others=[ben], actor=None, reason="same person")
    assert_consistent()
    do_unmerge_member(member=ben, actor=None, reason="two people")
    assert_consistent()
    ben.refresh_from_db()
    before = HourlyMessages.objects.filter(negative__gt=0).count()
    do_erase_member(member=ben, actor=None)
    # Ben's labels are gone: no negative message is left.
    assert before and not HourlyMessages.objects.filter(negative__gt=0).exists()
    assert_consistent()


def test_the_command_rebuilds_what_a_direct_write_missed(imported: None) -> None:
    HourlyMessages.objects.all().delete()
    DailyMemberActivity.objects.all().delete()
    MonthlyMemberActivity.objects.all().delete()
    DailyKeywords.objects.all().delete()
    MonthlyKeywords.objects.all().delete()
    MemberFirstSeen.objects.all().delete()
    out = io.StringIO()
    call_command("metrics", "rebuild-rollups", stdout=out)
    assert "recounted" in out.getvalue()
    assert_consistent()


def test_a_half_hour_zone_is_counted_message_by_message(imported: None, settings: Any) -> None:
    settings.COMMUNITY_TIME_ZONE = "Asia/Kolkata"
    assert m._hourly_histograms(m._resolve(m.Scope()), m.Scope(), ZoneInfo("Asia/Kolkata")) is None
    messages = Interaction.objects.filter(kind__in=MESSAGE_KINDS)
    heatmap = m.activity_heatmap(m.Scope())
    assert heatmap.local == m._histogram(messages, ZoneInfo("Asia/Kolkata"))
    # m1, 22:30 UTC on Sunday, is 04:00 on Monday in Kolkata.
    assert heatmap.local[0][4] >= 1


def test_runs_join_consecutive_days() -> None:
    d = date(2026, 3, 1)
    days = [d, d + timedelta(days=1), d + timedelta(days=5), d + timedelta(days=1)]
    assert runs(days) == [(d, d + timedelta(days=2)), (d + timedelta(days=5), d + timedelta(6))]
    assert runs([]) == []


def test_hour_runs_join_consecutive_hours() -> None:
    h = datetime(2026, 3, 1, 22, tzinfo=UTC)
    assert hour_of("2026-03-01 22:59:59.999999") == h
    assert hour_of(datetime(2026, 3, 2, 0, 30, tzinfo=ZoneInfo("Europe/Paris"))) == h + timedelta(
        hours=1
    )
    hours = [h, h + timedelta(hours=1), h + timedelta(hours=3), h]
    assert hour_runs(hours) == [
        (h, h + timedelta(hours=2)),
        (h + timedelta(hours=3), h + timedelta(hours=4)),
    ]


def test_times_are_taken_one_per_utc_hour() -> None:
    paris = ZoneInfo("Europe/Paris")
    times = [
        datetime(2026, 3, 1, 22, 5, tzinfo=UTC),
        datetime(2026, 3, 1, 22, 50, tzinfo=UTC),
        datetime(2026, 3, 1, 23, 10, tzinfo=paris),  # 22:10 UTC
        datetime(2026, 3, 1, 22, 10, tzinfo=paris),  # 21:10 UTC: same clock hour, not the same
        datetime(2026, 3, 1, 22, 40),  # noqa: DTZ001 (naive UTC, as SQLite rows are read)
        "2026-03-01 22:59:59",
        "2026-03-01 23:00:00",
    ]
    distinct = list(_distinct_hours(times))
    assert {hour_of(t) for t in distinct} == {hour_of(t) for t in times}
    assert len({hour_of(t) for t in times}) == 3
    assert len(distinct) == 6  # one per key: UTC, Paris ×2, naive, text ×2 (hours 22 and 23)


def test_refreshing_some_times_recounts_their_hours_and_days_only(imported: None) -> None:
    rows = list(HourlyMessages.objects.order_by("hour"))
    assert len(rows) >= 2
    touched, untouched = rows[0], rows[-1]
    HourlyMessages.objects.filter(pk__in=[touched.pk, untouched.pk]).update(messages=999)
    DailyKeywords.objects.all().delete()
    refresh_times([touched.hour + timedelta(minutes=17)], labels_only=True)
    direct, kept = direct_rows(), rollup_rows()
    assert [kept[k] for k in direct if k[0] == touched.hour] == [
        direct[k] for k in direct if k[0] == touched.hour
    ]  # recounted
    assert HourlyMessages.objects.get(pk=untouched.pk).messages == 999  # left as it was
    days = set(DailyKeywords.objects.values_list("day", flat=True))
    assert days == {touched.hour.date()}


def test_times_over_most_of_the_history_recount_every_keyword_row(
    imported: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, last = (
        DailyKeywords.objects.order_by("day")[0],
        DailyKeywords.objects.order_by("-day")[0],
    )
    assert first.day != last.day
    DailyKeywords.objects.filter(pk=last.pk).update(messages=999)
    at = datetime.combine(first.day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    refresh_times([at], labels_only=True)  # one day of the history's 24: that day only
    assert DailyKeywords.objects.get(pk=last.pk).messages == 999
    # Past the share, the whole history is recounted (a scan instead of the time index).
    monkeypatch.setattr(rollups, "WHOLE_HISTORY_SHARE", 1 / 24)
    refresh_times([at], labels_only=True)
    assert_topics_consistent()
    DailyKeywords.objects.update(messages=999)
    refresh_days([first.day])
    assert_topics_consistent()


def test_the_whole_scopes_response_times_alone_are_those_of_the_full_call(
    imported: None,
) -> None:
    refresh_states()
    for period in ("day", "week", "month"):
        scope = m.Scope(since=SINCE, until=UNTIL)
        whole = [t for t in m.ttfr(scope, period) if t.channel is None]
        assert whole and m.ttfr(scope, period, channels=False) == whole


def test_bounds_that_are_instants_are_counted_from_the_interactions(imported: None) -> None:
    # The digest's local weeks: m1 (22:30 UTC) is before 23:00, m2 (23:00) after.
    since = datetime(2026, 3, 1, 23, 0, tzinfo=UTC)
    until = since + timedelta(days=7)
    first: dict[int | None, datetime] = {}
    for i in Interaction.objects.filter(member__is_team=False, member__is_bot=False):
        first[i.member_id] = min(first.get(i.member_id, i.created_at), i.created_at)
    expected = sum(1 for at in first.values() if since <= at < until)
    scope = m.Scope(since=since, until=until)
    assert sum(m.new_members(scope).values()) == expected
    whole_day = m.Scope(since=since.date(), until=until.date())
    assert sum(m.new_members(whole_day).values()) != expected  # Ann's first day is counted


def test_times_spread_over_a_day_recount_the_whole_day(imported: None) -> None:
    row = HourlyMessages.objects.order_by("hour").first()
    assert row is not None
    HourlyMessages.objects.filter(pk=row.pk).update(messages=999)
    midnight = row.hour.replace(hour=0)
    # Four runs of hours of that day, none of them the tampered row's.
    spread = [
        midnight + timedelta(hours=h, minutes=5)
        for h in (1, 5, 9, 13, 17, 21)
        if h != row.hour.hour
    ][:4]
    refresh_times(spread, labels_only=True)
    direct, kept = direct_rows(), rollup_rows()
    key = (row.hour, row.source_id, row.channel_id)
    assert kept[key] == direct[key]


def test_enrichment_recounts_only_the_hours_whose_labels_changed(
    imported: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    HourlyMessages.objects.update(messages=999)  # a recount puts the true number back
    DailyKeywords.objects.update(messages=999)
    enrich_pending(rebuild=True)  # the same analyzers, the same labels: nothing to recount
    assert set(HourlyMessages.objects.values_list("messages", flat=True)) == {999}
    assert set(DailyKeywords.objects.values_list("messages", flat=True)) == {999}

    # A new sentiment model that finds every message negative: every hour is relabelled.
    sentiment = type(get_analyzer("sentiment"))
    monkeypatch.setattr(sentiment, "version", sentiment.version + "-gloomy")
    monkeypatch.setattr(
        sentiment,
        "analyze",
        lambda self, items: [{"compound": -0.5, "label": SentimentLabel.NEGATIVE} for _ in items],
    )
    enrich_pending()
    assert rollup_rows() == direct_rows()


def test_a_corrected_sentiment_is_counted(imported: None) -> None:
    praise = Interaction.objects.get(external_id="m1")

    def negative_in_its_hour() -> int:
        return sum(
            r.negative
            for r in HourlyMessages.objects.filter(channel=praise.channel_id)
            if r.hour == hour_of(praise.created_at)
        )

    before = negative_in_its_hour()
    do_correct_label(
        interaction=praise, field="sentiment_label", value=SentimentLabel.NEGATIVE, user=None
    )
    assert negative_in_its_hour() == before + 1
    assert rollup_rows() == direct_rows()


def test_many_runs_of_hours_recount_whole_days(
    imported: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rollups, "MAX_SPANS", 1)
    rows = list(HourlyMessages.objects.order_by("hour"))
    first, last = rows[0], rows[-1]
    assert first.hour.date() != last.hour.date()
    HourlyMessages.objects.filter(pk__in=[first.pk, last.pk]).update(messages=999)
    # Two runs of hours, one on each row's day, neither of them the tampered rows' hours.
    times = [
        first.hour.replace(hour=(first.hour.hour + 5) % 24),
        last.hour.replace(hour=(last.hour.hour + 5) % 24),
    ]
    refresh_times(times, labels_only=True)
    assert rollup_rows() == direct_rows()


def test_a_hidden_message_gives_no_topic(imported: None) -> None:
    moderator = make_staff("mo", role=Role.MODERATOR)
    k3 = Interaction.objects.get(external_id="k3")
    item = ModerationItem.objects.create(interaction=k3, reasons=[], text_hash="x")
    its_keywords = Enrichment.objects.get(interaction=k3).keywords
    assert any("deployment" in k for k in its_keywords)

    def deployment() -> int:
        rows = DailyKeywords.objects.filter(keyword__contains="deployment")
        return sum(r.messages for r in rows)

    shown = deployment()
    do_moderate(item=item, actor=moderator, action="hide", reason="off topic")
    # Its words count in no topic (nor the message in the shares' denominators).
    assert deployment() == shown - sum("deployment" in k for k in its_keywords)
    assert_topics_consistent()
    do_moderate(item=item, actor=moderator, action="approve")
    assert deployment() == shown
    assert_topics_consistent()
