"""The community metrics of docs/metrics.md ("Metrics"), one function per metric.

Each function takes a `Scope` (a source, a channel, the days [since, until), and optionally
the members to count, such as a segment's) and returns plain data: dataclasses whose `as_dict`
gives JSON. Counting happens in SQL aggregates; Python only sees one row per member,
conversation group, bucket or cell, never one per interaction.

Conventions shared by the member metrics: an interaction counts for the member it points at,
which after a merge is the surviving member (so a merged person's identities are one member);
interactions without a known member are left out; members marked staff (`is_team`) or bot
(`is_bot`) are left out. Time to first response and unanswered conversations come from the
inbox rollup (`inbox.ConversationState`), never from a second reading of the interactions.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay
from django.utils import timezone

from townsquare.community.models import Channel, Interaction, InteractionKind, Member, Source
from townsquare.listening import pulse
from townsquare.listening.pulse import MESSAGE_KINDS, PERIODS, Period

# Metric names, as the CLI takes them.
METRICS: tuple[str, ...] = (
    "ttfr",
    "unanswered",
    "new-members",
    "active-members",
    "retention",
    "drifting-away",
    "inactive-members",
    "absence-factor",
    "onion",
    "sentiment-trend",
    "activity-heatmap",
)

# Drifting away (LFX Insights): this many interactions in all, some in the last 6 months,
# none in the last 3.
DRIFTING_MIN_INTERACTIONS = 5
DRIFTING_RECENT_MONTHS = 3
DRIFTING_WINDOW_MONTHS = 6
# Inactive members: last interaction older than this many days.
INACTIVE_DAYS = 90
# Unanswered conversations: older than this many hours.
UNANSWERED_HOURS = 24
# Onion layers (GrimoireLab): cumulative share of interactions up to these bounds.
CORE_SHARE = 0.80
REGULAR_SHARE = 0.95
# Retention: months after the cohort's month shown.
RETENTION_MONTHS = 12
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class ScopeError(ValueError):
    """A scope naming a source or channel that does not exist; the message names the option."""


@dataclass(frozen=True)
class Scope:
    """Where and when: a source and a channel by name (None: all), and the UTC days
    [since, until) — `since` included, `until` excluded; None: no bound. `members` (None:
    everyone) keeps only the interactions of those members, and the conversations they
    opened: a segment's members as it selects them now. The pulse's figures (sentiment,
    topics) are the whole community's and ignore it."""

    source: str | None = None
    channel: str | None = None
    since: date | None = None
    until: date | None = None
    members: QuerySet[Member] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class _Resolved:
    source_ids: list[int] | None
    channel_ids: list[int] | None
    # The members kept, as a subquery of their ids and its parameters; None: everyone.
    members: tuple[str, list[Any]] | None = None


def _resolve(scope: Scope) -> _Resolved:
    source_ids = None
    if scope.source is not None:
        source_ids = list(Source.objects.filter(name=scope.source).values_list("id", flat=True))
        if not source_ids:
            raise ScopeError(f"--source: no source is named {scope.source!r}")
    channel_ids = None
    if scope.channel is not None:
        name = scope.channel.removeprefix("#")
        channels = Channel.objects.filter(name=name)
        if source_ids is not None:
            channels = channels.filter(source_id__in=source_ids)
        channel_ids = list(channels.values_list("id", flat=True))
        if not channel_ids:
            raise ScopeError(f"--channel: no channel is named {name!r}")
    members = None
    if scope.members is not None:
        # A subquery, not a list of ids: a segment may select 100,000 members.
        sql, params = (
            scope.members.prefetch_related(None).order_by().values("pk").query.sql_with_params()
        )
        members = (sql, list(params))
    return _Resolved(source_ids, channel_ids, members)


def _at(value: date | datetime) -> Any:
    """A day's start (UTC) or an instant, as the database compares it with stored datetimes."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(), tzinfo=UTC)
    return connection.ops.adapt_datetimefield_value(value)


def _whole_days(scope: Scope) -> bool:
    """Whether the scope's bounds are days (or none): the rollups count whole UTC days, so
    bounds that are instants (the digest's local weeks) are counted from the interactions."""
    return not isinstance(scope.since, datetime) and not isinstance(scope.until, datetime)


def _date(day: date) -> Any:
    """A day as the database compares it with stored dates (the rollups' days and months)."""
    return connection.ops.adapt_datefield_value(day)


def _marks(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def _where(
    resolved: _Resolved,
    *,
    alias: str = "i",
    column: str = "created_at",
    since: date | datetime | None = None,
    until: date | datetime | None = None,
    member: str | None = "member_id",
) -> tuple[str, list[Any]]:
    """SQL conditions (each starting with AND) for a scope's sources, channels, times and
    members (`member`: the column holding the member; None: the members are not restricted
    here)."""
    sql, params = "", []
    # A channel belongs to one source (_resolve picked the channels of the scope's source):
    # the source's condition would add nothing, and without statistics SQLite would read a
    # whole source's rows through its index instead of the channel's.
    if resolved.source_ids is not None and resolved.channel_ids is None:
        sql += f" AND {alias}.source_id IN ({_marks(resolved.source_ids)})"
        params += resolved.source_ids
    if resolved.channel_ids is not None:
        sql += f" AND {alias}.channel_id IN ({_marks(resolved.channel_ids)})"
        params += resolved.channel_ids
    if since is not None:
        sql += f" AND {alias}.{column} >= %s"
        params.append(_at(since))
    if until is not None:
        sql += f" AND {alias}.{column} < %s"
        params.append(_at(until))
    if member is not None:
        members, members_params = _members_where(resolved, f"{alias}.{member}")
        sql += members
        params += members_params
    return sql, params


def _members_where(resolved: _Resolved, column: str) -> tuple[str, list[Any]]:
    """The SQL condition (starting with AND) keeping the scope's members only, if it names any."""
    if resolved.members is None:
        return "", []
    subquery, params = resolved.members
    return f" AND {column} IN ({subquery})", list(params)


# Members counted by the member metrics: known, not staff, not bots.
_MEMBERS = " JOIN community_member m ON m.id = i.member_id AND m.is_team = %s AND m.is_bot = %s"
_MEMBER_PARAMS: list[Any] = [False, False]


def _rows(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return [tuple(row) for row in cursor.fetchall()]


def _day(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else date.fromisoformat(str(value)[:10])


def _instant(value: Any) -> datetime:
    """A datetime from the database: an aware one, or SQLite's naive UTC text."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def add_months(day: date, months: int) -> date:
    """The same day `months` calendar months later (earlier when negative), clamped to the
    month's last day: 31 May − 3 months is 28 (or 29) February."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def _today() -> date:
    return timezone.now().astimezone(UTC).date()


def _as_of(scope: Scope) -> date:
    """The exclusive end of "now" for the metrics looking back: `until`, or tomorrow (UTC)."""
    return scope.until or _today() + timedelta(days=1)


def _months_between(first: date, second: date) -> int:
    return (second.year - first.year) * 12 + second.month - first.month


# Percentiles ---------------------------------------------------------------------------------


def _position(n: int, p: float) -> tuple[int, Fraction]:
    """The rank below (n − 1)·p and the fraction past it, exactly (no float rounding)."""
    position = (n - 1) * Fraction(str(p))
    low = math.floor(position)
    return low, position - low


def percentile(sorted_values: Sequence[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default, PostgreSQL's
    percentile_cont): position (n − 1)·p in the sorted values. None for no values."""
    if not sorted_values:
        return None
    low, fraction = _position(len(sorted_values), p)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + float(fraction) * (sorted_values[high] - sorted_values[low])


def _check_period(period: str) -> None:
    if period not in PERIODS:
        raise ValueError(f"--period: expected one of {', '.join(PERIODS)}, got {period!r}")


def _check_hours(hours: int) -> None:
    if hours < 0:
        raise ValueError(f"--hours: expected a number of hours from 0 on, got {hours}")


def _states_where(resolved: _Resolved, scope: Scope) -> tuple[str, list[Any]]:
    """The scope's condition on the inbox rollup's states (alias `s`): opened in [since,
    until), by the scope's members."""
    return _where(
        resolved,
        alias="s",
        column="opened_at",
        since=scope.since,
        until=scope.until,
        member="opened_by_id",
    )


# Time to first response ----------------------------------------------------------------------


@dataclass
class ResponseTimes:
    """Time to first response of the conversations opened in one channel (None: all of the
    scope) and period; seconds, no value without responses."""

    channel: str | None
    period_start: date
    conversations: int
    responded: int
    median_seconds: float | None
    p90_seconds: float | None

    @property
    def no_response(self) -> int:
        return self.conversations - self.responded

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["period_start"] = self.period_start.isoformat()
        data["no_response"] = self.no_response
        return data


def ttfr(
    scope: Scope = Scope(), period: Period = "month", *, channels: bool = True
) -> list[ResponseTimes]:
    """Median and p90 of the first response's time minus the first message's time, over the
    conversations with a first message opened in [since, until), per channel and period, and
    for the whole scope per period (channel None). `channels=False`: the whole scope's only."""
    _check_period(period)
    resolved = _resolve(scope)
    where, params = _states_where(resolved, scope)
    bucket = pulse._bucket_sql(period, "s.opened_at")
    base = " FROM inbox_conversationstate s WHERE s.first_message_id IS NOT NULL" + where
    result: list[ResponseTimes] = []
    for by_channel in (False, True) if channels else (False,):
        # The groups in order, then every response time in the same order: a group's times
        # are the next `responded` values (a bucket only grows with opened_at). The times
        # come from the rollup's index on (opened_at, response_seconds) without a sort, much
        # faster than ranking them in SQL; Python sorts each group.
        order = "s.channel_id, " if by_channel else ""
        channel = "s.channel_id" if by_channel else "NULL"
        groups = _rows(
            f"SELECT {channel}, {bucket}, COUNT(*), COUNT(s.response_seconds){base}"
            f" GROUP BY {order}{bucket} ORDER BY {order}{bucket}",
            params,
        )
        times = [
            float(secs)
            for (secs,) in _rows(
                f"SELECT s.response_seconds{base} AND s.response_seconds IS NOT NULL"
                f" ORDER BY {order}s.opened_at",
                params,
            )
        ]
        names = dict(Channel.objects.values_list("id", "name")) if by_channel else {}
        taken = 0
        for c, b, total, responded in groups:
            values = sorted(times[taken : taken + int(responded)])
            taken += int(responded)
            result.append(
                ResponseTimes(
                    channel=(names.get(c, pulse.NO_CHANNEL) if by_channel else None),
                    period_start=_day(b),
                    conversations=int(total),
                    responded=int(responded),
                    median_seconds=percentile(values, 0.5),
                    p90_seconds=percentile(values, 0.9),
                )
            )
    result.sort(key=lambda t: (t.channel is not None, t.channel or "", t.period_start))
    return result


# Unanswered conversations --------------------------------------------------------------------


@dataclass
class Unanswered:
    hours: int
    cutoff: datetime
    total: int
    per_channel: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["cutoff"] = self.cutoff.isoformat()
        return data


def unanswered(
    scope: Scope = Scope(), hours: int = UNANSWERED_HOURS, now: datetime | None = None
) -> Unanswered:
    """Conversations awaiting a reply (no response by anyone but the opener, not marked
    answered) opened at or before now − `hours`, and in [since, until) when given."""
    _check_hours(hours)
    resolved = _resolve(scope)
    cutoff = (now or timezone.now()) - timedelta(hours=hours)
    where, params = _states_where(resolved, scope)
    rows = _rows(
        "SELECT s.channel_id, COUNT(*) FROM inbox_conversationstate s"  # noqa: S608
        f" WHERE s.awaiting_reply = %s AND s.opened_at <= %s{where} GROUP BY s.channel_id",
        [True, _at(cutoff), *params],
    )
    names = dict(Channel.objects.values_list("id", "name"))
    per_channel = {names.get(c, pulse.NO_CHANNEL): int(n) for c, n in rows}
    return Unanswered(hours, cutoff, sum(per_channel.values()), dict(sorted(per_channel.items())))


@dataclass
class UnansweredShare:
    """Of the conversations opened in one period and old enough to judge, those still
    awaiting a reply."""

    period_start: date
    conversations: int
    unanswered: int

    @property
    def share(self) -> float | None:
        return self.unanswered / self.conversations if self.conversations else None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["period_start"] = self.period_start.isoformat()
        data["share"] = self.share
        return data


def unanswered_share(
    scope: Scope = Scope(),
    period: Period = "month",
    hours: int = UNANSWERED_HOURS,
    now: datetime | None = None,
) -> list[UnansweredShare]:
    """Per period of `opened_at` (UTC), in [since, until): the conversations with a first
    message opened at or before now − `hours` (younger ones cannot be unanswered yet), and
    those of them awaiting a reply — the `unanswered` count, spread over the periods they were
    opened in. Periods without such a conversation are not listed."""
    _check_period(period)
    _check_hours(hours)
    resolved = _resolve(scope)
    cutoff = (now or timezone.now()) - timedelta(hours=hours)
    where, params = _states_where(resolved, scope)
    bucket = pulse._bucket_sql(period, "s.opened_at")
    rows = _rows(
        f"SELECT {bucket}, COUNT(*),"  # noqa: S608
        " SUM(CASE WHEN s.awaiting_reply = %s THEN 1 ELSE 0 END)"
        " FROM inbox_conversationstate s WHERE s.first_message_id IS NOT NULL"
        f" AND s.opened_at <= %s{where} GROUP BY {bucket}",
        [True, _at(cutoff), *params],
    )
    return sorted(
        (UnansweredShare(_day(b), int(n), int(waiting or 0)) for b, n, waiting in rows),
        key=lambda u: u.period_start,
    )


# Messages per period -------------------------------------------------------------------------


def activity(scope: Scope = Scope(), period: Period = "month") -> dict[date, int]:
    """Messages per period (UTC): the pulse's volume — interactions of the message kinds (post,
    reply, comment, message, answer), every author. Every period of [since, until) is listed,
    quiet ones with 0; without `since`/`until`, from the scope's first to its last
    interaction. With `members`, their messages only."""
    _check_period(period)
    resolved = _resolve(scope)
    days = None
    if scope.since is None or scope.until is None:
        days = _data_days(resolved)
        if days is None:
            return {}
    since = scope.since or (days[0] if days else _today())
    until = scope.until or (days[1] if days else _today())
    if scope.members is None and _whole_days(scope):
        # Everyone's messages: the hourly rollup holds them (metrics/rollups.py).
        where, params = _where(
            resolved, alias="r", column="hour", since=since, until=until, member=None
        )
        bucket = pulse._bucket_sql(period, "r.hour")
        rows = _rows(
            f"SELECT {bucket}, SUM(r.messages) FROM metrics_hourlymessages r"  # noqa: S608
            f" WHERE 1 = 1{where} GROUP BY {bucket}",
            params,
        )
    else:
        where, params = _where(resolved, since=since, until=until)
        bucket = pulse._bucket_sql(period)
        rows = _rows(
            f"SELECT {bucket}, COUNT(*) FROM community_interaction i"  # noqa: S608
            f" WHERE i.kind IN ({_marks(MESSAGE_KINDS)}){where} GROUP BY {bucket}",
            [*MESSAGE_KINDS, *params],
        )
    counts = {_day(b): int(n) for b, n in rows}
    return {b: counts.get(b, 0) for b in pulse.bucket_starts(since, until, period)}


# New members and retention -------------------------------------------------------------------


def _first_seen_sql(resolved: _Resolved, *, whole_days: bool = True) -> tuple[str, list[Any]]:
    """(member_id, first_at) of every counted member: their first interaction of any kind in
    the scope's sources and channels, over all their identities. `whole_days=False` (bounds
    that are instants): the exact first instant, from the interactions."""
    if not whole_days:
        where, params = _where(resolved)
        return (
            "SELECT i.member_id AS member_id, MIN(i.created_at) AS first_at"  # noqa: S608
            f" FROM community_interaction i{_MEMBERS} WHERE 1 = 1{where} GROUP BY i.member_id",
            [*_MEMBER_PARAMS, *params],
        )
    # From the members' first days per source and channel (metrics/rollups.py): the earliest
    # of the scope's, as the start of its UTC day (periods and bounds are whole days).
    where, params = _where(resolved, alias="fs", member="member_id")
    if connection.vendor == "postgresql":
        first = "CAST(MIN(fs.first_day) AS timestamp) AT TIME ZONE 'UTC'"
    else:
        first = "MIN(fs.first_day) || ' 00:00:00'"
    return (
        f"SELECT fs.member_id AS member_id, {first} AS first_at"  # noqa: S608
        " FROM metrics_memberfirstseen fs"
        " JOIN community_member m ON m.id = fs.member_id AND m.is_team = %s AND m.is_bot = %s"
        f" WHERE 1 = 1{where} GROUP BY fs.member_id",
        [*_MEMBER_PARAMS, *params],
    )


def new_members(scope: Scope = Scope(), period: Period = "month") -> dict[date, int]:
    """Members whose first interaction of any kind (in the scope's sources and channels) falls
    in each calendar month (UTC; or each day or ISO week with `period`); months with a first
    interaction in [since, until) only, and every month between the first and last such month
    listed, quiet ones with 0."""
    _check_period(period)
    resolved = _resolve(scope)
    first, params = _first_seen_sql(resolved, whole_days=_whole_days(scope))
    bounds, bound_params = "", []
    if scope.since is not None:
        bounds += " AND f.first_at >= %s"
        bound_params.append(_at(scope.since))
    if scope.until is not None:
        bounds += " AND f.first_at < %s"
        bound_params.append(_at(scope.until))
    bucket = pulse._bucket_sql(period, "f.first_at")
    rows = _rows(
        f"SELECT {bucket}, COUNT(*) FROM ({first}) f WHERE 1 = 1{bounds}"  # noqa: S608
        f" GROUP BY {bucket}",
        [*params, *bound_params],
    )
    counts = {_day(b): int(n) for b, n in rows}
    if not counts:
        return {}
    starts = pulse.bucket_starts(min(counts), max(counts) + timedelta(days=1), period)
    return {b: counts.get(b, 0) for b in starts}


@dataclass
class Cohort:
    month: date
    members: int
    # Share (0..1) of the cohort active in month M + k, k = 0, 1, …
    retained: list[float]
    active: list[int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "month": self.month.isoformat(),
            "members": self.members,
            "active": self.active,
            "retained": self.retained,
        }


def retention(scope: Scope = Scope(), months: int = RETENTION_MONTHS) -> list[Cohort]:
    """Cohorts of the members first seen in each month of [since, until): the share of them
    with an interaction of any kind in month M + k, for k = 0..`months` (and not after the
    month of the scope's last interaction, or `until`)."""
    resolved = _resolve(scope)
    first, params = _first_seen_sql(resolved, whole_days=_whole_days(scope))
    where, where_params = _where(resolved, alias="r")
    cohort = pulse._bucket_sql("month", "f.first_at")
    active = pulse._bucket_sql("month", "r.month")
    bounds, bound_params = "", []
    if scope.since is not None:
        bounds += " AND f.first_at >= %s"
        bound_params.append(_at(scope.since))
    if scope.until is not None:
        bounds += " AND f.first_at < %s"
        bound_params.append(_at(scope.until))
    sizes = _rows(
        f"SELECT {cohort}, COUNT(*) FROM ({first}) f WHERE 1 = 1{bounds}"  # noqa: S608
        f" GROUP BY {cohort}",
        [*params, *bound_params],
    )
    cells = _rows(
        f"SELECT {cohort}, {active}, COUNT(DISTINCT r.member_id)"  # noqa: S608
        f" FROM ({first}) f JOIN metrics_monthlymemberactivity r ON r.member_id = f.member_id"
        f" WHERE 1 = 1{bounds}{where} GROUP BY {cohort}, {active}",
        [*params, *bound_params, *where_params],
    )
    if not sizes:
        return []
    last_month = max(_day(a) for _, a, _ in cells)
    if scope.until is not None:
        last_month = min(last_month, (scope.until - timedelta(days=1)).replace(day=1))
    grid: dict[tuple[date, int], int] = {}
    for c, a, n in cells:
        grid[(_day(c), _months_between(_day(c), _day(a)))] = int(n)
    result = []
    for c, size in sorted((_day(c), int(n)) for c, n in sizes):
        span = min(months, _months_between(c, last_month))
        counts = [grid.get((c, k), 0) for k in range(span + 1)]
        result.append(Cohort(c, size, [n / size for n in counts], counts))
    return result


# Active members ------------------------------------------------------------------------------


@dataclass
class ActiveMembers:
    day: date
    dau: int
    wau: int
    mau: int

    @property
    def dau_mau(self) -> float:
        """DAU ÷ MAU × 100; 0 when MAU is 0."""
        return self.dau / self.mau * 100 if self.mau else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "dau": self.dau,
            "wau": self.wau,
            "mau": self.mau,
            "dau_mau": self.dau_mau,
        }


def active_members(scope: Scope, day: date) -> ActiveMembers:
    """Distinct members with an interaction of any kind on `day` (UTC), in the 7 days ending
    with it and in the 30 days ending with it (`day` included). `since`/`until` are ignored:
    the windows are the metric."""
    resolved = _resolve(scope)
    end = day + timedelta(days=1)
    # From the daily member rollup (metrics/rollups.py): the windows are whole UTC days.
    # Each member's last active day of the 30, then how many fall in each window: one
    # grouping instead of three distinct counts, and staff and bots looked up per member.
    where, params = _where(resolved, alias="r", member=None)
    members, members_params = _members_where(resolved, "g.member_id")
    row = _rows(
        "SELECT SUM(CASE WHEN g.last >= %s THEN 1 ELSE 0 END),"  # noqa: S608
        " SUM(CASE WHEN g.last >= %s THEN 1 ELSE 0 END), COUNT(*)"
        " FROM (SELECT r.member_id AS member_id, MAX(r.day) AS last"
        " FROM metrics_dailymemberactivity r"
        f" WHERE r.day >= %s AND r.day < %s{where} GROUP BY r.member_id) g"
        " JOIN community_member m ON m.id = g.member_id AND m.is_team = %s AND m.is_bot = %s"
        f" WHERE 1 = 1{members}",
        [
            _date(day),
            _date(end - timedelta(days=7)),
            _date(end - timedelta(days=30)),
            _date(end),
            *params,
            *_MEMBER_PARAMS,
            *members_params,
        ],
    )[0]
    return ActiveMembers(day, int(row[0] or 0), int(row[1] or 0), int(row[2]))


def daily_active(scope: Scope = Scope()) -> dict[date, int]:
    """DAU of every day in [since, until) with at least one active member."""
    resolved = _resolve(scope)
    where, params = _where(resolved, since=scope.since, until=scope.until)
    day = pulse._bucket_sql("day")
    rows = _rows(
        f"SELECT {day}, COUNT(DISTINCT i.member_id)"  # noqa: S608
        f" FROM community_interaction i{_MEMBERS} WHERE 1 = 1{where} GROUP BY {day}",
        [*_MEMBER_PARAMS, *params],
    )
    return dict(sorted((_day(d), int(n)) for d, n in rows))


# Drifting away and inactive members ----------------------------------------------------------


@dataclass
class MemberActivity:
    member_id: int
    name: str
    interactions: int
    last_at: datetime

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["last_at"] = self.last_at.isoformat()
        return data


@dataclass
class Drifting:
    as_of: date  # exclusive: the windows end at this day's start (UTC)
    recent_since: date
    window_since: date
    members: list[MemberActivity]

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "recent_since": self.recent_since.isoformat(),
            "window_since": self.window_since.isoformat(),
            "count": len(self.members),
            "members": [m.as_dict() for m in self.members],
        }


def drifting_away(scope: Scope = Scope()) -> Drifting:
    """Members with at least 5 interactions before the end, at least one in the 6 months
    before it and none in the 3 months before it. The end is `until` (excluded; default:
    tomorrow, so today is in); the 6 and 3 months are calendar months back from it, their
    first instant included. `since` is ignored."""
    resolved = _resolve(scope)
    end = _as_of(scope)
    recent = add_months(end, -DRIFTING_RECENT_MONTHS)
    window = add_months(end, -DRIFTING_WINDOW_MONTHS)
    where, params = _where(resolved, until=end)
    rows = _rows(
        "SELECT i.member_id, m.display_name, COUNT(*), MAX(i.created_at)"  # noqa: S608
        f" FROM community_interaction i{_MEMBERS} WHERE 1 = 1{where}"
        " GROUP BY i.member_id, m.display_name HAVING COUNT(*) >= %s"
        " AND MAX(i.created_at) >= %s AND MAX(i.created_at) < %s"
        " ORDER BY MAX(i.created_at) DESC, i.member_id",
        [*_MEMBER_PARAMS, *params, DRIFTING_MIN_INTERACTIONS, _at(window), _at(recent)],
    )
    members = [MemberActivity(int(r[0]), str(r[1]), int(r[2]), _instant(r[3])) for r in rows]
    return Drifting(end, recent, window, members)


@dataclass
class Inactive:
    as_of: date
    days: int
    per_month: dict[date, int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "days": self.days,
            "total": sum(self.per_month.values()),
            "per_month": {m.isoformat(): n for m, n in self.per_month.items()},
        }


def inactive_members(scope: Scope = Scope(), days: int = INACTIVE_DAYS) -> Inactive:
    """Members whose last interaction (before `until`, default tomorrow) is strictly older than
    `days` days before it, counted in the calendar month of that last interaction; with
    `since`, only last interactions from then on."""
    if days < 0:
        raise ValueError(f"--days: expected a number of days from 0 on, got {days}")
    resolved = _resolve(scope)
    end = _as_of(scope)
    where, params = _where(resolved, until=end)
    month = pulse._bucket_sql("month", "l.last_at")
    bounds, bound_params = " AND l.last_at < %s", [_at(end - timedelta(days=days))]
    if scope.since is not None:
        bounds += " AND l.last_at >= %s"
        bound_params.append(_at(scope.since))
    rows = _rows(
        f"SELECT {month}, COUNT(*) FROM (SELECT i.member_id, MAX(i.created_at) AS last_at"  # noqa: S608
        f" FROM community_interaction i{_MEMBERS} WHERE 1 = 1{where} GROUP BY i.member_id) l"
        f" WHERE 1 = 1{bounds} GROUP BY {month}",
        [*_MEMBER_PARAMS, *params, *bound_params],
    )
    return Inactive(end, days, dict(sorted((_day(m), int(n)) for m, n in rows)))


# Absence factor and onion --------------------------------------------------------------------


def _member_counts(scope: Scope) -> list[int]:
    """Interactions per counted member in the scope, largest first: one row per member."""
    resolved = _resolve(scope)
    if scope.since is not None and scope.until is not None and _whole_days(scope):
        return _rolled_member_counts(resolved, scope.since, scope.until)
    where, params = _where(resolved, since=scope.since, until=scope.until)
    rows = _rows(
        "SELECT COUNT(*) FROM community_interaction i"  # noqa: S608
        f"{_MEMBERS} WHERE 1 = 1{where} GROUP BY i.member_id ORDER BY COUNT(*) DESC",
        [*_MEMBER_PARAMS, *params],
    )
    return [int(r[0]) for r in rows]


def _rolled_member_counts(resolved: _Resolved, since: date, until: date) -> list[int]:
    """_member_counts from the member rollups: the whole months of [since, until) from the
    monthly rows, the days before and after them from the daily ones."""
    first_month = since if since.day == 1 else add_months(since.replace(day=1), 1)
    last_month = until.replace(day=1)
    where, params = _where(resolved, alias="r", member=None)
    daily = (
        "SELECT r.member_id AS member_id, r.interactions AS n"
        " FROM metrics_dailymemberactivity r WHERE r.day >= %s AND r.day < %s"
    )
    parts: list[tuple[str, list[Any]]] = []
    if first_month < last_month:
        parts.append(
            (
                "SELECT r.member_id AS member_id, r.interactions AS n"
                " FROM metrics_monthlymemberactivity r WHERE r.month >= %s AND r.month < %s",
                [_date(first_month), _date(last_month)],
            )
        )
        if since < first_month:
            parts.append((daily, [_date(since), _date(first_month)]))
        if last_month < until:
            parts.append((daily, [_date(last_month), _date(until)]))
    else:
        parts.append((daily, [_date(since), _date(until)]))
    union = " UNION ALL ".join(sql + where for sql, _ in parts)
    union_params = [p for _, bounds in parts for p in [*bounds, *params]]
    members, members_params = _members_where(resolved, "g.member_id")
    # Staff and bots looked up once per member, after the grouping.
    rows = _rows(
        "SELECT g.n FROM (SELECT x.member_id AS member_id, SUM(x.n) AS n"  # noqa: S608
        f" FROM ({union}) x GROUP BY x.member_id) g"
        " JOIN community_member m ON m.id = g.member_id AND m.is_team = %s AND m.is_bot = %s"
        f" WHERE 1 = 1{members} ORDER BY g.n DESC",
        [*union_params, *_MEMBER_PARAMS, *members_params],
    )
    return [int(r[0]) for r in rows]


def bus_factor(counts: Sequence[int]) -> int:
    """The smallest number of members whose interactions, largest first, reach half of all;
    exactly half counts. 0 without interactions."""
    total = sum(counts)
    reached = 0
    for n, count in enumerate(sorted(counts, reverse=True), start=1):
        reached += count
        if reached * 2 >= total:
            return n if total else 0
    return 0


@dataclass
class AbsenceFactor:
    factor: int
    members: int
    interactions: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def absence_factor(scope: Scope = Scope()) -> AbsenceFactor:
    """The contributor absence factor (bus factor) of the interactions in the scope."""
    counts = _member_counts(scope)
    return AbsenceFactor(bus_factor(counts), len(counts), sum(counts))


@dataclass
class Layer:
    members: int = 0
    interactions: int = 0


@dataclass
class Onion:
    core: Layer
    regular: Layer
    casual: Layer

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def onion_layers(counts: Sequence[int]) -> Onion:
    """Members largest first; a member whose cumulative share (them included) is at most 80 %
    is core, at most 95 % regular, else casual. Equal counts are taken in the given order."""
    total = sum(counts)
    result = Onion(Layer(), Layer(), Layer())
    reached = 0
    for count in sorted(counts, reverse=True):
        reached += count
        # Integer comparison: reached / total ≤ 0.80 exactly, no float rounding at the edge.
        if reached * 100 <= total * round(CORE_SHARE * 100):
            layer = result.core
        elif reached * 100 <= total * round(REGULAR_SHARE * 100):
            layer = result.regular
        else:
            layer = result.casual
        layer.members += 1
        layer.interactions += count
    return result


def onion(scope: Scope = Scope()) -> Onion:
    """The onion model (GrimoireLab) of the interactions in the scope."""
    return onion_layers(_member_counts(scope))


# Sentiment trend -----------------------------------------------------------------------------


@dataclass
class SentimentPoint:
    channel: str | None
    period_start: date
    messages: int
    mean_compound: float | None
    negative_share: float | None
    unsupported: int

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["period_start"] = self.period_start.isoformat()
        return data


def _channel_ids(resolved: _Resolved) -> list[int] | None:
    """The scope's channels as the pulse takes them: a source's are its channels."""
    if resolved.channel_ids is None and resolved.source_ids is not None:
        return list(
            Channel.objects.filter(source_id__in=resolved.source_ids).values_list("id", flat=True)
        )
    return resolved.channel_ids


def _data_days(resolved: _Resolved) -> tuple[date, date] | None:
    """The first day of the scope's interactions and the day after its last one."""
    where, params = _where(resolved)
    first, last = _rows(
        f"SELECT MIN(i.created_at), MAX(i.created_at) FROM community_interaction i"  # noqa: S608
        f" WHERE 1 = 1{where}",
        params,
    )[0]
    if first is None:
        return None
    return _day(first), _day(last) + timedelta(days=1)


def sentiment_trend(
    scope: Scope = Scope(), period: Period = "month", *, channels: bool = True
) -> list[SentimentPoint]:
    """Per period and channel (and for all of the scope, channel None): mean compound score
    and negative share of the messages with a supported language; messages in an unsupported
    language are excluded from both and counted. The pulse's figures (docs/metrics.md,
    "Pulse"); without `since`/`until`, from the scope's first to its last interaction. The
    whole community's: `members` does not apply. `channels=False`: the whole scope's points
    only, summed from the hourly rollup."""
    _check_period(period)
    resolved = _resolve(replace(scope, members=None))
    channel_ids = _channel_ids(resolved)
    # The first and last interaction only matter for a missing bound.
    days = None if scope.since and scope.until else _data_days(resolved)
    if days is None and (scope.since is None or scope.until is None):
        return []
    since = scope.since or (days[0] if days else _today())
    until = scope.until or (days[1] if days else _today())
    if since >= until:
        return []
    if not channels and _whole_days(scope):
        return _sentiment_overall(since, until, period, channel_ids)
    data = pulse.trends(since, until, period, channel_ids=channel_ids)
    result = []
    trends = [data.overall, *sorted(data.channels, key=lambda t: t.name)] if channels else []
    for trend in trends or [data.overall]:
        for f in trend.buckets:
            assert f.start is not None  # noqa: S101 - buckets always have a start
            result.append(
                SentimentPoint(
                    channel=trend.name if trend.channel_id is not None else None,
                    period_start=f.start,
                    messages=f.volume,
                    mean_compound=f.mean_sentiment,
                    negative_share=f.negative_share,
                    unsupported=f.unsupported,
                )
            )
    return result


def _sentiment_overall(
    since: date, until: date, period: Period, channel_ids: list[int] | None
) -> list[SentimentPoint]:
    """sentiment_trend's points for the whole scope, summed from the hourly rollup: the
    pulse's overall figures (every bucket of [since, until), quiet ones with 0)."""
    if channel_ids is None:
        where, params = "", []
    elif channel_ids:
        where, params = f" AND r.channel_id IN ({_marks(channel_ids)})", list(channel_ids)
    else:
        where, params = " AND 1 = 0", []
    bucket = pulse._bucket_sql(period, "r.hour")
    rows = _rows(
        f"SELECT {bucket}, SUM(r.messages), SUM(r.supported), SUM(r.scored),"  # noqa: S608
        " SUM(r.sentiment_sum), SUM(r.negative), SUM(r.unsupported)"
        f" FROM metrics_hourlymessages r WHERE r.hour >= %s AND r.hour < %s{where}"
        f" GROUP BY {bucket}",
        [_at(since), _at(until), *params],
    )
    found = {
        _day(b): pulse.Figures(
            volume=int(n),
            supported=int(supported or 0),
            scored=int(scored or 0),
            sentiment_sum=float(total or 0.0),
            negative=int(negative or 0),
            unsupported=int(unsupported or 0),
        )
        for b, n, supported, scored, total, negative, unsupported in rows
    }
    points = []
    for start in pulse.bucket_starts(since, until, period):
        f = found.get(start) or pulse.Figures()
        points.append(
            SentimentPoint(
                channel=None,
                period_start=start,
                messages=f.volume,
                mean_compound=f.mean_sentiment,
                negative_share=f.negative_share,
                unsupported=f.unsupported,
            )
        )
    return points


# Topics --------------------------------------------------------------------------------------


def topics(scope: Scope, limit: int = 10) -> list[pulse.Topic]:
    """The pulse's topics of [since, until) (both needed) in the scope's channels (a source:
    its channels): keywords of at least MIN_TOPIC_COUNT messages, by count then lift, with
    their lift over the previous period of the same length (docs/metrics.md, "Topics"). The
    whole community's: `members` does not apply."""
    if scope.since is None or scope.until is None:
        raise ValueError("topics: a period needs both --since and --until")
    resolved = _resolve(replace(scope, members=None))
    if not _whole_days(scope):
        return pulse.topics(
            scope.since, scope.until, channel_ids=_channel_ids(resolved), limit=limit
        )
    return _rolled_topics(scope.since, scope.until, _channel_ids(resolved), limit)


def _spans(since: date, until: date) -> list[tuple[str, date, date]]:
    """[since, until) as the rollups read it: its whole calendar months from the monthly rows
    ("month"), the days before and after them from the daily ones ("day")."""
    first_month = since if since.day == 1 else add_months(since.replace(day=1), 1)
    last_month = until.replace(day=1)
    if first_month >= last_month:
        return [("day", since, until)] if since < until else []
    spans = [("month", first_month, last_month)]
    if since < first_month:
        spans.append(("day", since, first_month))
    if last_month < until:
        spans.append(("day", last_month, until))
    return spans


def _rolled_topics(
    since: date, until: date, channel_ids: list[int] | None, limit: int
) -> list[pulse.Topic]:
    """pulse.topics over the keyword rollups: each keyword's messages in [since, until) and in
    the period of the same length before it, the empty keyword's being all analyzed messages."""
    before, _ = pulse.previous_period(since, until)
    if channel_ids is None:
        where, params = "", []
    elif channel_ids:
        where, params = f" AND r.channel_id IN ({_marks(channel_ids)})", list(channel_ids)
    else:
        where, params = " AND 1 = 0", []
    parts, part_params = [], []
    for now, (start, end) in ((1, (since, until)), (0, (before, since))):
        for kind, low, high in _spans(start, end):
            table, column = (
                ("metrics_monthlykeywords", "month")
                if kind == "month"
                else ("metrics_dailykeywords", "day")
            )
            parts.append(
                f"SELECT r.keyword AS keyword, {now} * r.messages AS now,"  # noqa: S608
                f" {1 - now} * r.messages AS previous FROM {table} r"
                f" WHERE r.{column} >= %s AND r.{column} < %s{where}"
            )
            part_params += [_date(low), _date(high), *params]
    rows = _rows(
        "SELECT x.keyword, SUM(x.now), SUM(x.previous)"  # noqa: S608
        f" FROM ({' UNION ALL '.join(parts)}) x GROUP BY x.keyword"
        " HAVING SUM(x.now) >= %s OR x.keyword = ''",
        [*part_params, pulse.MIN_TOPIC_COUNT],
    )
    totals = {str(k): (int(n or 0), int(p or 0)) for k, n, p in rows}
    messages, previous_messages = totals.pop("", (0, 0))
    ranked = [
        pulse.Topic(keyword, n, messages, p, previous_messages)
        for keyword, (n, p) in totals.items()
    ]
    ranked.sort(key=lambda t: (-t.count, -t.lift, t.keyword))
    return ranked[:limit]


# Activity by hour and weekday ----------------------------------------------------------------


@dataclass
class Heatmap:
    time_zone: str
    # cells[weekday][hour]: weekday 0 is Monday.
    utc: list[list[int]]
    local: list[list[int]]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _histogram(queryset: Any, tz: ZoneInfo) -> list[list[int]]:
    cells = [[0] * 24 for _ in range(7)]
    rows = (
        queryset.annotate(
            wd=ExtractIsoWeekDay("created_at", tzinfo=tz), hour=ExtractHour("created_at", tzinfo=tz)
        )
        .values("wd", "hour")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        cells[int(row["wd"]) - 1][int(row["hour"])] += int(row["n"])
    return cells


def activity_heatmap(scope: Scope = Scope()) -> Heatmap:
    """Messages (post, reply, comment, message, answer; every author, as the pulse's volume)
    per weekday and hour, in UTC and in the community's time zone (COMMUNITY_TIME_ZONE).
    Reactions and votes are left out: exports keep no real time for them. With `members`,
    their messages only."""
    resolved = _resolve(scope)
    query = Q(kind__in=MESSAGE_KINDS)
    if scope.members is not None:
        query &= Q(member__in=scope.members.prefetch_related(None).order_by().values("pk"))
    if resolved.source_ids is not None:
        query &= Q(source_id__in=resolved.source_ids)
    if resolved.channel_ids is not None:
        query &= Q(channel_id__in=resolved.channel_ids)
    if scope.since is not None:
        query &= Q(created_at__gte=datetime.combine(scope.since, time(), tzinfo=UTC))
    if scope.until is not None:
        query &= Q(created_at__lt=datetime.combine(scope.until, time(), tzinfo=UTC))
    queryset = Interaction.objects.filter(query)
    name = settings.COMMUNITY_TIME_ZONE
    if scope.members is None and _whole_days(scope):
        grids = _hourly_histograms(resolved, scope, ZoneInfo(name))
        if grids is not None:
            return Heatmap(name, *grids)
    return Heatmap(
        name, _histogram(queryset, ZoneInfo("UTC")), _histogram(queryset, ZoneInfo(name))
    )


def _hourly_histograms(
    resolved: _Resolved, scope: Scope, tz: ZoneInfo
) -> tuple[list[list[int]], list[list[int]]] | None:
    """The UTC and local grids from the hourly rollup: a UTC hour falls in one local hour
    when the zone's offset is a whole number of hours throughout it (every zone with
    whole-hour offsets, DST included). None when some hour of the scope is not so (a zone such
    as Asia/Kolkata, or a historical offset): the caller then counts the messages."""
    where, params = _where(
        resolved, alias="r", column="hour", since=scope.since, until=scope.until, member=None
    )
    rows = _rows(
        "SELECT r.hour, SUM(r.messages) FROM metrics_hourlymessages r"  # noqa: S608
        f" WHERE 1 = 1{where} GROUP BY r.hour",
        params,
    )
    utc = [[0] * 24 for _ in range(7)]
    local = [[0] * 24 for _ in range(7)]
    rest_of_hour = timedelta(hours=1) - timedelta(microseconds=1)
    for hour, n in rows:
        start = _instant(hour)
        here = start.astimezone(tz)
        offset = here.utcoffset()
        if (
            offset is None
            or offset % timedelta(hours=1)
            or (start + rest_of_hour).astimezone(tz).utcoffset() != offset
        ):
            return None
        utc[start.weekday()][start.hour] += int(n)
        local[here.weekday()][here.hour] += int(n)
    return utc, local


# Top helpers ---------------------------------------------------------------------------------

# A helper needs a thanks or an accepted answer, or this many first responses (as a topic of
# the member's expertise needs thanks, acceptance or 2 answers).
HELPER_MIN_FIRST_RESPONSES = 2


@dataclass
class Helper:
    """A member whose help others acknowledged in the period."""

    member_id: int
    name: str
    thanks: int
    accepted: int
    first_responses: int

    @property
    def score(self) -> int:
        """First responses count once, thanks and accepted answers twice (as expertise)."""
        return self.first_responses + 2 * (self.thanks + self.accepted)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["score"] = self.score
        return data


def top_helpers(scope: Scope = Scope(), limit: int = 10) -> list[Helper]:
    """Members (not staff, not bots) ranked by first responses + 2 × (thanks + accepted
    answers) in [since, until): thanks they received (the gratitude analyzer's credit,
    `listening.Thanks`, as the care rule "helper to thank") in messages of the scope; their
    answers accepted (Stack Exchange `accepted` marks of the scope whose parent is their
    message); conversations of the scope they answered first (the inbox rollup's first
    responder, by the time of that response). Listed from one thanks or accepted answer, or
    2 first responses; ties by name."""
    resolved = _resolve(scope)
    # The scope's sources, channels and times apply to the thanking message, the accepted
    # mark and the conversation; `members` to the helper.
    on_messages, message_params = _where(
        resolved, since=scope.since, until=scope.until, member=None
    )
    on_states, state_params = _where(
        resolved,
        alias="s",
        column="first_response_at",
        since=scope.since,
        until=scope.until,
        member=None,
    )
    # Thanks carry their message's time: the messages are joined only for a source or a
    # channel (reading a year of messages by time to find 20,000 thanks took 0.7 s).
    on_thanks, thanks_params = _where(
        _Resolved(None, None), alias="t", since=scope.since, until=scope.until, member=None
    )
    thanks_from = "listening_thanks t"
    if resolved.source_ids is not None or resolved.channel_ids is not None:
        on_channel, channel_params = _where(resolved, member=None)
        thanks_from += " JOIN community_interaction i ON i.id = t.interaction_id"
        on_thanks, thanks_params = on_thanks + on_channel, thanks_params + channel_params
    helpers, helper_params = _members_where(resolved, "h.member_id")
    # Each kind of help counted per member first, then added up: the members table is read
    # for the few thousand helpers only, not for every thanks and first response.
    rows = _rows(
        "SELECT h.member_id, m.display_name, h.thanks, h.accepted, h.firsts FROM ("  # noqa: S608
        " SELECT member_id, SUM(thanks) AS thanks, SUM(accepted) AS accepted,"
        " SUM(firsts) AS firsts FROM ("
        " SELECT t.to_member_id AS member_id, COUNT(*) AS thanks, 0 AS accepted, 0 AS firsts"
        f" FROM {thanks_from} WHERE 1 = 1{on_thanks} GROUP BY t.to_member_id"
        " UNION ALL SELECT p.member_id, 0, COUNT(*), 0 FROM community_interaction i"
        " JOIN community_interaction p ON p.id = i.parent_id"
        # The kind written out, not a parameter: the partial index of accepted marks
        # (interaction_accepted) applies only when the planner sees the value.
        f" WHERE i.kind = '{InteractionKind.ACCEPTED.value}' AND p.member_id IS NOT NULL"
        f"{on_messages} GROUP BY p.member_id"
        " UNION ALL SELECT s.first_responder_id, 0, 0, COUNT(*) FROM inbox_conversationstate s"
        f" WHERE s.first_responder_id IS NOT NULL{on_states} GROUP BY s.first_responder_id"
        ") u GROUP BY member_id HAVING SUM(thanks) + SUM(accepted) > 0 OR SUM(firsts) >= %s"
        ") h JOIN community_member m ON m.id = h.member_id AND m.is_team = %s AND m.is_bot = %s"
        f" WHERE 1 = 1{helpers}"
        " ORDER BY h.firsts + 2 * (h.thanks + h.accepted) DESC, m.display_name, h.member_id"
        " LIMIT %s",
        [
            *thanks_params,
            *message_params,
            *state_params,
            HELPER_MIN_FIRST_RESPONSES,
            *_MEMBER_PARAMS,
            *helper_params,
            limit,
        ],
    )
    return [Helper(int(r[0]), str(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows]
