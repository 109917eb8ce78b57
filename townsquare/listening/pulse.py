"""The community's pulse: trends per channel and period, and topics with their lift.

Definitions are in docs/metrics.md ("Pulse"). Everything is aggregated in SQL, grouped by
period bucket with the database's own date functions (plain `substr`/`date` on SQLite,
`date_trunc` on PostgreSQL): the ORM's `TruncDate` runs a Python function per row on SQLite,
several times slower over millions of rows. A handful of queries answer a whole page:

- `trends`: one query for the counts per (channel, bucket), one for the distinct active
  members (as (channel, bucket, member) triples, from which every distinct count the page
  shows is taken: per bucket, per channel, over the range), one for the channels' names;
- `topics`, `topics_by_channel`: one query each, keyword counts of this period and the
  previous one with their denominators.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from django.db import connection

from townsquare.community.models import Channel, InteractionKind
from townsquare.listening.models import SentimentLabel

Period = Literal["day", "week", "month"]
PERIODS: tuple[Period, ...] = ("day", "week", "month")

# Kinds that are messages someone wrote; reactions, joins, votes, badges and events are not
# "volume" (they still make a member active).
MESSAGE_KINDS: tuple[str, ...] = (
    InteractionKind.POST,
    InteractionKind.REPLY,
    InteractionKind.COMMENT,
    InteractionKind.MESSAGE,
    InteractionKind.ANSWER,
)
SUPPORTED_LABELS: tuple[str, ...] = (
    SentimentLabel.POSITIVE,
    SentimentLabel.NEUTRAL,
    SentimentLabel.NEGATIVE,
)
# A keyword is a topic of a period only from this many messages on.
MIN_TOPIC_COUNT = 3
# Additive smoothing of a keyword's share: (count + a) / (messages + 2a), so a keyword absent
# from the previous period has a finite lift.
SMOOTHING = 1.0


# Buckets -------------------------------------------------------------------------------------


def bucket_start(day: date, period: Period) -> date:
    """The first day of the bucket holding `day`: itself, its ISO week's Monday, its month's 1st."""
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def next_bucket(start: date, period: Period) -> date:
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(days=7)
    days = calendar.monthrange(start.year, start.month)[1]
    return start.replace(day=1) + timedelta(days=days)


def bucket_starts(since: date, until: date, period: Period) -> list[date]:
    """Every bucket overlapping [since, until), in order."""
    starts = []
    current = bucket_start(since, period)
    while current < until:
        starts.append(current)
        current = next_bucket(current, period)
    return starts


def _bucket_sql(period: Period, column: str = "i.created_at") -> str:
    """SQL giving the bucket's first day as 'YYYY-MM-DD' text, in UTC."""
    if connection.vendor == "postgresql":
        return f"to_char(date_trunc('{period}', {column} AT TIME ZONE 'UTC'), 'YYYY-MM-DD')"
    # SQLite keeps datetimes as naive UTC text, 'YYYY-MM-DD HH:MM:SS[.ffffff]'.
    if period == "day":
        return f"substr({column}, 1, 10)"
    if period == "week":
        # 'weekday 0' moves forward to the Sunday (a Sunday stays), then back to its Monday.
        return f"date(substr({column}, 1, 10), 'weekday 0', '-6 days')"
    return f"substr({column}, 1, 7) || '-01'"


def _at(day: date) -> Any:
    """The start of a UTC day, or an instant given as an aware datetime, as the database
    compares it with stored datetimes."""
    instant = day if isinstance(day, datetime) else datetime.combine(day, time(), tzinfo=UTC)
    return connection.ops.adapt_datetimefield_value(instant)


def _utc_days(since: date, until: date) -> tuple[date, date]:
    """The UTC days [first, last) covering a range of days, or of instants (aware datetimes,
    such as the digest's weeks in the community's time zone)."""
    if isinstance(since, datetime):
        since = since.astimezone(UTC).date()
    if isinstance(until, datetime):
        until = (until - timedelta(microseconds=1)).astimezone(UTC).date() + timedelta(days=1)
    return since, until


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _in(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values))


# Trends --------------------------------------------------------------------------------------


@dataclass
class Figures:
    """One bucket's (or a whole range's) figures for one channel or for all."""

    start: date | None = None
    volume: int = 0
    active_members: int = 0
    # Messages with a supported sentiment label, and those of them with a compound score.
    supported: int = 0
    scored: int = 0
    sentiment_sum: float = 0.0
    negative: int = 0
    unsupported: int = 0
    # Messages the analyzers read (any language), and those flagged toxic among them.
    analyzed: int = 0
    toxic: int = 0

    @property
    def mean_sentiment(self) -> float | None:
        return self.sentiment_sum / self.scored if self.scored else None

    @property
    def negative_share(self) -> float | None:
        return self.negative / self.supported if self.supported else None

    @property
    def toxic_share(self) -> float | None:
        return self.toxic / self.analyzed if self.analyzed else None

    def add(self, other: Figures) -> None:
        """Add another's counts (not active members: distinct counts do not add up)."""
        self.volume += other.volume
        self.supported += other.supported
        self.scored += other.scored
        self.sentiment_sum += other.sentiment_sum
        self.negative += other.negative
        self.unsupported += other.unsupported
        self.analyzed += other.analyzed
        self.toxic += other.toxic

    def as_dict(self) -> dict[str, Any]:
        mean = self.mean_sentiment
        share = self.negative_share
        return {
            "start": self.start.isoformat() if self.start else None,
            "volume": self.volume,
            "active_members": self.active_members,
            "mean_sentiment": None if mean is None else round(mean, 4),
            "negative_share": None if share is None else round(share, 4),
            "supported": self.supported,
            "negative": self.negative,
            "unsupported": self.unsupported,
            "analyzed": self.analyzed,
            "toxic": self.toxic,
        }


@dataclass
class Trend:
    """A channel's figures per bucket (every bucket of the range, zeros where nothing
    happened) and over the whole range. `channel_id` None: all channels together."""

    channel_id: int | None
    name: str
    source: str
    buckets: list[Figures]
    total: Figures

    @property
    def label(self) -> str:
        return f"#{self.name}" if self.channel_id is not None else self.name


@dataclass
class Trends:
    since: date
    until: date  # exclusive
    period: Period
    overall: Trend
    # Busiest first (by volume over the range, then by name).
    channels: list[Trend] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        def trend(t: Trend) -> dict[str, Any]:
            return {
                "channel_id": t.channel_id,
                "channel": t.name,
                "source": t.source,
                "total": t.total.as_dict(),
                "buckets": [b.as_dict() for b in t.buckets],
            }

        return {
            "since": self.since.isoformat(),
            "until": (self.until - timedelta(days=1)).isoformat(),
            "period": self.period,
            "overall": trend(self.overall),
            "channels": [trend(t) for t in self.channels],
        }


NO_CHANNEL = "(no channel)"


def trends(
    since: date,
    until: date,
    period: Period = "day",
    *,
    channel_ids: Collection[int] | None = None,
) -> Trends:
    """Every channel's figures per bucket over the days [since, until) (UTC); `channel_ids`
    keeps those channels only (then `overall` sums those only). Given instants instead of
    days, the figures count [since, until) exactly, in the UTC buckets it overlaps."""
    if period not in PERIODS:
        raise ValueError(f"period: expected one of {', '.join(PERIODS)}, got {period!r}")
    starts = bucket_starts(*_utc_days(since, until), period)
    counts = _counts(since, until, period, channel_ids)
    active = _active(since, until, period, channel_ids)

    # Distinct members per (channel, bucket), per bucket, per channel and over the range.
    per_cell: dict[tuple[int | None, date], set[int]] = defaultdict(set)
    per_bucket: dict[date, set[int]] = defaultdict(set)
    per_channel: dict[int | None, set[int]] = defaultdict(set)
    everyone: set[int] = set()
    for channel_id, start, member_id in active:
        per_cell[(channel_id, start)].add(member_id)
        per_bucket[start].add(member_id)
        per_channel[channel_id].add(member_id)
        everyone.add(member_id)

    channel_keys = sorted(
        {c for c, _ in counts} | set(per_channel), key=lambda c: (c is None, c or 0)
    )
    names = _channel_names([c for c in channel_keys if c is not None])

    overall_buckets = {s: Figures(start=s, active_members=len(per_bucket[s])) for s in starts}
    overall_total = Figures(active_members=len(everyone))
    result: list[Trend] = []
    for channel_id in channel_keys:
        buckets = []
        total = Figures(active_members=len(per_channel[channel_id]))
        for s in starts:
            cell = counts.get((channel_id, s)) or Figures()
            cell.start = s
            cell.active_members = len(per_cell[(channel_id, s)])
            buckets.append(cell)
            total.add(cell)
            overall_buckets[s].add(cell)
        overall_total.add(total)
        name, source = names.get(channel_id or 0, (NO_CHANNEL, ""))
        result.append(Trend(channel_id, name, source, buckets, total))
    result.sort(key=lambda t: (-t.total.volume, t.name.casefold(), t.channel_id or 0))
    overall = Trend(None, "All channels", "", list(overall_buckets.values()), overall_total)
    return Trends(since, until, period, overall, result)


def _scope(channel_ids: Collection[int] | None) -> tuple[str, list[Any]]:
    if channel_ids is None:
        return "", []
    ids = sorted(channel_ids)
    if not ids:
        return " AND 1 = 0", []
    return f" AND i.channel_id IN ({_in(ids)})", list(ids)


def _counts(
    since: date, until: date, period: Period, channel_ids: Collection[int] | None
) -> dict[tuple[int | None, date], Figures]:
    labels = _in(SUPPORTED_LABELS)
    scope, scope_params = _scope(channel_ids)
    supported = f"e.sentiment_label IN ({labels})"
    sql = (
        f"SELECT i.channel_id, {_bucket_sql(period)} AS b,"  # noqa: S608
        " COUNT(*),"
        f" SUM(CASE WHEN {supported} THEN 1 ELSE 0 END),"
        f" COUNT(CASE WHEN {supported} THEN e.sentiment END),"
        f" SUM(CASE WHEN {supported} THEN e.sentiment END),"
        " SUM(CASE WHEN e.sentiment_label = %s THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN e.sentiment_label = %s THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN e.analyzed THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN e.analyzed AND e.is_toxic THEN 1 ELSE 0 END)"
        " FROM community_interaction i"
        " LEFT JOIN listening_enrichment e ON e.interaction_id = i.id"
        " WHERE i.created_at >= %s AND i.created_at < %s"
        f" AND i.kind IN ({_in(MESSAGE_KINDS)}){scope}"
        " GROUP BY i.channel_id, b"
    )
    params: list[Any] = [
        *SUPPORTED_LABELS,
        *SUPPORTED_LABELS,
        *SUPPORTED_LABELS,
        SentimentLabel.NEGATIVE,
        SentimentLabel.UNSUPPORTED,
        _at(since),
        _at(until),
        *MESSAGE_KINDS,
        *scope_params,
    ]
    found: dict[tuple[int | None, date], Figures] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            start = _as_date(row[1])
            found[(row[0], start)] = Figures(
                start=start,
                volume=int(row[2]),
                supported=int(row[3] or 0),
                scored=int(row[4] or 0),
                sentiment_sum=float(row[5] or 0.0),
                negative=int(row[6] or 0),
                unsupported=int(row[7] or 0),
                analyzed=int(row[8] or 0),
                toxic=int(row[9] or 0),
            )
    return found


def _active(
    since: date, until: date, period: Period, channel_ids: Collection[int] | None
) -> list[tuple[int | None, date, int]]:
    """(channel, bucket, member) for every member active there then: any kind of interaction,
    staff (is_team) and bots excluded."""
    scope, scope_params = _scope(channel_ids)
    sql = (
        f"SELECT DISTINCT i.channel_id, {_bucket_sql(period)} AS b, i.member_id"  # noqa: S608
        " FROM community_interaction i JOIN community_member m ON m.id = i.member_id"
        " WHERE i.created_at >= %s AND i.created_at < %s"
        f" AND m.is_team = %s AND m.is_bot = %s{scope}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [_at(since), _at(until), False, False, *scope_params])
        return [(row[0], _as_date(row[1]), int(row[2])) for row in cursor.fetchall()]


def _channel_names(ids: list[int]) -> dict[int, tuple[str, str]]:
    if not ids:
        return {}
    return {
        c.id: (c.name, c.source.name)
        for c in Channel.objects.filter(id__in=ids)
        .select_related("source")
        .only("id", "name", "source__name")
    }


# Topics --------------------------------------------------------------------------------------


@dataclass
class Topic:
    """A keyword of a period: its count (messages whose keywords include it) and share of the
    period's analyzed messages, the same in the previous period, and the lift between them."""

    keyword: str
    count: int
    messages: int
    previous_count: int
    previous_messages: int

    @property
    def share(self) -> float:
        return self.count / self.messages if self.messages else 0.0

    @property
    def previous_share(self) -> float:
        return self.previous_count / self.previous_messages if self.previous_messages else 0.0

    @property
    def lift(self) -> float:
        return lift(self.count, self.messages, self.previous_count, self.previous_messages)

    @property
    def is_new(self) -> bool:
        return self.previous_count == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "keyword": self.keyword,
            "count": self.count,
            "share": round(self.share, 4),
            "previous_count": self.previous_count,
            "previous_share": round(self.previous_share, 4),
            "lift": round(self.lift, 3),
        }


def lift(count: int, messages: int, previous_count: int, previous_messages: int) -> float:
    """Smoothed share now over smoothed share before:
    ((c + a) / (n + 2a)) / ((c' + a) / (n' + 2a)), with a = SMOOTHING."""
    a = SMOOTHING
    now = (count + a) / (messages + 2 * a)
    before = (previous_count + a) / (previous_messages + 2 * a)
    return now / before


def previous_period(since: date, until: date) -> tuple[date, date]:
    """The period of the same length just before [since, until)."""
    return since - (until - since), since


def topics(
    since: date,
    until: date,
    *,
    channel_ids: Collection[int] | None = None,
    member_id: int | None = None,
    limit: int = 10,
    min_count: int = MIN_TOPIC_COUNT,
) -> list[Topic]:
    """The period's most frequent keywords (of one member's messages with `member_id`)."""
    found = _topics(since, until, channel_ids, member_id, min_count, by_channel=False)
    return found.get(None, [])[:limit]


def topics_by_channel(
    since: date,
    until: date,
    *,
    channel_ids: Collection[int] | None = None,
    limit: int = 5,
    min_count: int = MIN_TOPIC_COUNT,
) -> dict[int | None, list[Topic]]:
    """Each channel's most frequent keywords of the period."""
    found = _topics(since, until, channel_ids, None, min_count, by_channel=True)
    return {channel_id: items[:limit] for channel_id, items in found.items()}


# Topics are what the community talks about in the open: a message a moderator hid (spam, abuse)
# gives none, nor counts in the shares' denominators. SQL on an interaction aliased `i`.
NOT_HIDDEN = (
    "NOT EXISTS (SELECT 1 FROM moderation_moderationitem h"
    " WHERE h.interaction_id = i.id AND h.is_hidden)"
)


def _keywords_join() -> str:
    if connection.vendor == "postgresql":
        return " CROSS JOIN LATERAL jsonb_array_elements_text(e.keywords) AS k(value)"
    return " CROSS JOIN json_each(e.keywords) AS k"


def _topics(
    since: date,
    until: date,
    channel_ids: Collection[int] | None,
    member_id: int | None,
    min_count: int,
    *,
    by_channel: bool,
) -> dict[int | None, list[Topic]]:
    before, _ = previous_period(since, until)
    scope, scope_params = _scope(channel_ids)
    if member_id is not None:
        scope += " AND i.member_id = %s"
        scope_params.append(member_id)
    channel = "i.channel_id" if by_channel else "NULL"
    group = "i.channel_id, " if by_channel else ""
    now = "CASE WHEN i.created_at >= %s THEN 1 ELSE 0 END"
    then = "CASE WHEN i.created_at < %s THEN 1 ELSE 0 END"
    where = (
        " FROM community_interaction i JOIN listening_enrichment e ON e.interaction_id = i.id"
        "{join}"
        f" WHERE i.created_at >= %s AND i.created_at < %s AND i.kind IN ({_in(MESSAGE_KINDS)})"
        f" AND e.analyzed = %s{scope} AND {NOT_HIDDEN}"
    )
    common = [_at(before), _at(until), *MESSAGE_KINDS, True, *scope_params]
    # The keywords (a NULL keyword row per channel holds the messages counted, the shares'
    # denominators), in one round trip.
    sql = (
        f"SELECT {channel}, k.value, SUM({now}), SUM({then})"
        + where.format(join=_keywords_join())
        + f" GROUP BY {group}k.value HAVING SUM({now}) >= %s"
        + f" UNION ALL SELECT {channel}, NULL, SUM({now}), SUM({then})"
        + where.format(join="")
        + (" GROUP BY i.channel_id" if by_channel else "")
    )
    at_since = _at(since)
    params = [
        at_since,
        at_since,
        *common,
        at_since,
        min_count,
        at_since,
        at_since,
        *common,
    ]
    keywords: dict[int | None, list[tuple[str, int, int]]] = defaultdict(list)
    messages: dict[int | None, tuple[int, int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for channel_id, keyword, count, previous in cursor.fetchall():
            if keyword is None:
                messages[channel_id] = (int(count or 0), int(previous or 0))
            else:
                keywords[channel_id].append((str(keyword), int(count), int(previous)))
    found: dict[int | None, list[Topic]] = {}
    for channel_id, items in keywords.items():
        n, n_before = messages.get(channel_id, (0, 0))
        ranked = [Topic(kw, c, n, p, n_before) for kw, c, p in items]
        ranked.sort(key=lambda t: (-t.count, -t.lift, t.keyword))
        found[channel_id] = ranked
    return found


def rising(items: Iterable[Topic], limit: int = 10) -> list[Topic]:
    """The topics that grew most since the previous period."""
    return sorted(items, key=lambda t: (-t.lift, -t.count, t.keyword))[:limit]
