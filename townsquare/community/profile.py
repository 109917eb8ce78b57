"""What one member's page tells about them as a person (docs/metrics.md, "Interests and
expertise"): their interests, their expertise, the people they talk with, and their activity
over time (weekly sparkline, languages, monthly sentiment).

Each function is one SQL query, aggregated in the database. A page must answer in the same time
whatever the member's history (docs/benchmarks.md, "Member pages"), so each reads the member's
latest PORTRAIT_INTERACTIONS interactions (the portrait's window, through the member-and-time
index), and the weekly counts come from the daily member rollup (metrics.DailyMemberActivity:
a row per day, source and channel the member was active in, instead of every interaction of
the year before their last one).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection

from townsquare.community.engagement import day_sql
from townsquare.community.models import InteractionKind, Member
from townsquare.listening.models import SentimentLabel
from townsquare.listening.pulse import MESSAGE_KINDS, SUPPORTED_LABELS

# A keyword is an interest from this many of the member's messages on.
MIN_INTEREST_MESSAGES = 2
# Kinds that answer someone else's conversation.
ANSWER_KINDS: tuple[str, ...] = (
    InteractionKind.ANSWER,
    InteractionKind.REPLY,
    InteractionKind.COMMENT,
)
# What counts as a response to a message: a reply of any message kind, or a reaction.
RESPONSE_KINDS: tuple[str, ...] = (*MESSAGE_KINDS, InteractionKind.REACTION)
# An expertise topic needs thanks or an accepted answer, or this many answers.
MIN_EXPERTISE_ANSWERS = 2
SPARKLINE_WEEKS = 52
SENTIMENT_MONTHS = 12
# The portrait reads at most this many of the member's latest interactions: enough for any
# member but the busiest few, and a bound on the page's time for those (tens of thousands).
PORTRAIT_INTERACTIONS = 1000
# The sparkline's drawing box, in SVG user units.
SPARK_WIDTH = 260
SPARK_HEIGHT = 40


def _in(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def _keywords_join(column: str) -> str:
    """SQL that gives one row per keyword of a JSON list column, as `k.value`."""
    if connection.vendor == "postgresql":
        return f" CROSS JOIN LATERAL jsonb_array_elements_text({column}) AS k(value)"
    return f" CROSS JOIN json_each({column}) AS k"


def _recent(columns: str) -> str:
    """SQL of the portrait's window: the member's latest PORTRAIT_INTERACTIONS interactions,
    newest first, with these columns; its two parameters are the member's id and the limit."""
    return (
        f"SELECT {columns} FROM community_interaction WHERE member_id = %s"  # noqa: S608 (constant columns)
        " ORDER BY created_at DESC, id DESC LIMIT %s"
    )


def _fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _shown(column: str, sees_hidden: bool) -> str:
    """SQL that leaves out the message whose id is in `column` when a moderator hid it, unless
    the reader may see hidden messages (townsquare/moderation/visibility.py)."""
    if sees_hidden:
        return ""
    # A bare boolean column is a condition on both engines.
    return (
        " AND NOT EXISTS (SELECT 1 FROM moderation_moderationitem h"  # noqa: S608 (our column)
        f" WHERE h.interaction_id = {column} AND h.is_hidden)"
    )


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


# Interests -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    interaction_id: int
    text: str
    created_at: datetime
    conversation_id: int | None
    platform: str
    # A moderator hid it: only readers who may see hidden messages get it as an example.
    hidden: bool = False


@dataclass
class Interest:
    """A keyword of the member's messages: how often, how positive, what response it got."""

    keyword: str
    messages: int
    # Mean compound sentiment of those messages in supported languages (None: none scored).
    mean_sentiment: float | None
    # Replies and reactions by other members to those messages.
    responses: int
    score: float
    examples: list[Example] = field(default_factory=list)


def interests(
    member: Member, *, limit: int = 5, examples: int = 2, sees_hidden: bool = False
) -> list[Interest]:
    """The member's top keywords by messages × (1 + positivity) × (1 + responses per message),
    where positivity is the mean sentiment when above zero, each with its best examples (most
    responses, then most positive, then newest), passing over a message a higher interest
    already shows while the keyword has others; over the portrait's window. The messages a
    moderator hid count only for a reader who may see them (`sees_hidden`): their keywords
    and words are theirs."""
    # `CROSS JOIN ... WHERE` makes SQLite walk the member's few messages and look their
    # responses up by parent, instead of scanning every interaction that has a parent;
    # PostgreSQL plans it as the inner join it is.
    sql = (
        f"WITH recent AS ({_recent('id, kind, created_at')}),"  # noqa: S608 (only constant SQL and placeholders)
        " mine AS ("
        " SELECT r.id, r.created_at, e.sentiment, e.keywords"
        " FROM recent r JOIN listening_enrichment e ON e.interaction_id = r.id"
        f" WHERE r.kind IN ({_in(MESSAGE_KINDS)}) AND e.analyzed = %s"
        f"{_shown('r.id', sees_hidden)}),"
        " responses AS ("
        " SELECT c.parent_id AS id, COUNT(*) AS n"
        " FROM mine m CROSS JOIN community_interaction c WHERE c.parent_id = m.id"
        " AND c.member_id IS NOT NULL AND c.member_id <> %s AND c.id <> c.parent_id"
        f" AND c.kind IN ({_in(RESPONSE_KINDS)}) GROUP BY c.parent_id),"
        " words AS ("
        " SELECT k.value AS keyword, m.id, m.created_at, m.sentiment,"
        " COALESCE(r.n, 0) AS responses FROM mine m"
        + _keywords_join("m.keywords")
        + " LEFT JOIN responses r ON r.id = m.id),"
        " topics AS ("
        " SELECT keyword, COUNT(*) AS messages, AVG(sentiment) AS mean_sentiment,"
        " SUM(responses) AS responses FROM words GROUP BY keyword HAVING COUNT(*) >= %s),"
        " chosen AS ("
        " SELECT keyword, messages, mean_sentiment, responses,"
        " (messages + responses) * (1 + CASE WHEN mean_sentiment > 0 THEN mean_sentiment"
        " ELSE 0 END) AS score FROM topics ORDER BY score DESC, messages DESC, keyword LIMIT %s),"
        " picked AS ("
        " SELECT w.keyword, w.id, ROW_NUMBER() OVER (PARTITION BY w.keyword"
        " ORDER BY w.responses DESC, COALESCE(w.sentiment, -2) DESC, w.created_at DESC, w.id DESC)"
        " AS rn FROM words w JOIN chosen c ON c.keyword = w.keyword)"
        " SELECT c.keyword, c.messages, c.mean_sentiment, c.responses, c.score,"
        " i.id, i.text, i.created_at, i.conversation_id, s.platform,"
        " EXISTS (SELECT 1 FROM moderation_moderationitem h"
        " WHERE h.interaction_id = i.id AND h.is_hidden)"
        " FROM chosen c JOIN picked p ON p.keyword = c.keyword AND p.rn <= %s"
        " JOIN community_interaction i ON i.id = p.id"
        " JOIN community_source s ON s.id = i.source_id"
        " ORDER BY c.score DESC, c.messages DESC, c.keyword, p.rn"
    )
    params = [
        member.pk,
        PORTRAIT_INTERACTIONS,
        *MESSAGE_KINDS,
        True,
        member.pk,
        *RESPONSE_KINDS,
        MIN_INTEREST_MESSAGES,
        limit,
        # Enough candidates to pass over every message the interests above show.
        examples * limit,
    ]
    found: dict[str, Interest] = {}
    candidates: dict[str, list[Example]] = defaultdict(list)
    rows = _fetch(sql, params)
    for keyword, messages, mean, responses, score, pk, text, created, conv, platform, hid in rows:
        if keyword not in found:
            found[keyword] = Interest(
                keyword=str(keyword),
                messages=int(messages),
                mean_sentiment=None if mean is None else float(mean),
                responses=int(responses or 0),
                score=float(score),
            )
        candidates[keyword].append(
            Example(int(pk), str(text), _as_datetime(created), conv, str(platform), bool(hid))
        )
    # One message often carries two of the top keywords ("missing values" and "data"): shown
    # under each, it would crowd out the member's other messages.
    shown: set[int] = set()
    for keyword, interest in found.items():
        ranked = candidates[keyword]
        fresh = [e for e in ranked if e.interaction_id not in shown]
        shown_before = [e for e in ranked if e.interaction_id in shown]
        interest.examples.extend((fresh + shown_before)[:examples])
        shown.update(e.interaction_id for e in interest.examples)
    return list(found.values())


# Expertise -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expertise:
    """A keyword of conversations someone else started, where the member answered."""

    keyword: str
    conversations: int
    answers: int
    thanks: int
    accepted: int

    @property
    def score(self) -> int:
        return self.answers + 2 * (self.thanks + self.accepted)


def expertise(member: Member, *, limit: int = 5, sees_hidden: bool = False) -> list[Expertise]:
    """Topics (keywords of a conversation's opening message) of conversations started by
    someone else where the member answered, replied or commented, with the thanks they got in
    those conversations and their answers accepted; ranked by answers + 2 × (thanks +
    accepted). A topic needs a thanks or an accepted answer, or MIN_EXPERTISE_ANSWERS answers.
    The member's answers are those of the portrait's window. A conversation whose opening
    message a moderator hid counts only for a reader who may see it (`sees_hidden`): its
    keywords are that message's."""
    # A conversation's opener is looked up on its own (the conversation-and-time index, first
    # message first) rather than by numbering every message of every conversation answered:
    # a busy member answers in conversations of thousands of messages.
    sql = (
        f"WITH recent AS ({_recent('id, kind, conversation_id')}),"  # noqa: S608 (only constant SQL and placeholders)
        " mine AS ("
        f" SELECT id, conversation_id FROM recent WHERE kind IN ({_in(ANSWER_KINDS)})"
        " AND conversation_id IS NOT NULL),"
        " firsts AS ("
        " SELECT x.conversation_id, (SELECT o.id FROM community_interaction o"
        f" WHERE o.conversation_id = x.conversation_id AND o.kind IN ({_in(MESSAGE_KINDS)})"
        " ORDER BY o.created_at, o.id LIMIT 1) AS id"
        " FROM (SELECT DISTINCT conversation_id FROM mine) x),"
        " openers AS ("
        " SELECT f.conversation_id, f.id FROM firsts f"
        " JOIN community_interaction oi ON oi.id = f.id"
        f" WHERE (oi.member_id IS NULL OR oi.member_id <> %s){_shown('f.id', sees_hidden)}),"
        " answered AS ("
        " SELECT m.conversation_id, COUNT(*) AS answers FROM mine m"
        " JOIN openers o ON o.conversation_id = m.conversation_id GROUP BY m.conversation_id),"
        " thanked AS ("
        " SELECT ti.conversation_id, COUNT(*) AS thanks FROM listening_thanks t"
        " JOIN community_interaction ti ON ti.id = t.interaction_id"
        " WHERE t.to_member_id = %s"
        " AND ti.conversation_id IN (SELECT conversation_id FROM answered)"
        " GROUP BY ti.conversation_id),"
        " accepted AS ("
        " SELECT m.conversation_id, COUNT(*) AS accepted FROM mine m"
        " CROSS JOIN community_interaction a WHERE a.parent_id = m.id AND a.kind = %s"
        " GROUP BY m.conversation_id)"
        " SELECT k.value, COUNT(*), SUM(a.answers), SUM(COALESCE(t.thanks, 0)),"
        " SUM(COALESCE(x.accepted, 0))"
        " FROM answered a JOIN openers o ON o.conversation_id = a.conversation_id"
        " LEFT JOIN thanked t ON t.conversation_id = a.conversation_id"
        " LEFT JOIN accepted x ON x.conversation_id = a.conversation_id"
        " JOIN listening_enrichment e ON e.interaction_id = o.id"
        + _keywords_join("e.keywords")
        + " GROUP BY k.value"
        " HAVING SUM(COALESCE(t.thanks, 0)) + SUM(COALESCE(x.accepted, 0)) > 0"
        " OR SUM(a.answers) >= %s"
        " ORDER BY SUM(a.answers)"
        " + 2 * (SUM(COALESCE(t.thanks, 0)) + SUM(COALESCE(x.accepted, 0))) DESC,"
        " COUNT(*) DESC, k.value LIMIT %s"
    )
    params = [
        member.pk,
        PORTRAIT_INTERACTIONS,
        *ANSWER_KINDS,
        *MESSAGE_KINDS,
        member.pk,
        member.pk,
        InteractionKind.ACCEPTED,
        MIN_EXPERTISE_ANSWERS,
        limit,
    ]
    return [
        Expertise(str(keyword), int(n), int(answers), int(thanks or 0), int(accepted or 0))
        for keyword, n, answers, thanks, accepted in _fetch(sql, params)
    ]


# People --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    """Another member and how the two interacted."""

    member_id: int
    display_name: str
    is_team: bool
    is_bot: bool
    replied_to: int
    replied_by: int
    thanked: int
    thanked_by: int

    @property
    def total(self) -> int:
        return self.replied_to + self.replied_by + self.thanked + self.thanked_by


def people(member: Member, *, limit: int = 8) -> list[Contact]:
    """The members this one interacts with most: the authors of the messages they reply to,
    those who reply to theirs, and thanks either way. Replies are those of and to the
    portrait's window; for a member with more interactions than it holds, thanks count from the
    window's oldest interaction on."""
    kinds = _in(MESSAGE_KINDS)
    # Thanks from the window's oldest interaction on, unless the window holds all of them
    # (counted up to one more than it holds, from the index alone).
    since = (
        " AND ((SELECT COUNT(*) FROM (SELECT 1 FROM community_interaction"
        " WHERE member_id = %s LIMIT %s) everything) <= %s"
        " OR created_at >= (SELECT MIN(created_at) FROM recent))"
    )
    # Counted per person first, then named: joining the names before counting made
    # PostgreSQL read the whole member table for a few hundred rows.
    sql = (
        f"WITH recent AS ({_recent('id, kind, parent_id, created_at')}),"  # noqa: S608 (only constant SQL and placeholders)
        " counts AS (SELECT x.other, SUM(x.replied_to) AS replied_to,"
        " SUM(x.replied_by) AS replied_by, SUM(x.thanked) AS thanked,"
        " SUM(x.thanked_by) AS thanked_by FROM ("
        " SELECT p.member_id AS other, 1 AS replied_to, 0 AS replied_by, 0 AS thanked,"
        " 0 AS thanked_by"
        " FROM recent i CROSS JOIN community_interaction p WHERE p.id = i.parent_id"
        f" AND i.kind IN ({kinds}) AND p.member_id <> %s"
        " UNION ALL SELECT c.member_id, 0, 1, 0, 0"
        " FROM recent r CROSS JOIN community_interaction c WHERE c.parent_id = r.id"
        f" AND c.kind IN ({kinds}) AND c.member_id <> %s"
        " UNION ALL SELECT to_member_id, 0, 0, 1, 0 FROM listening_thanks"
        f" WHERE from_member_id = %s{since}"
        " UNION ALL SELECT from_member_id, 0, 0, 0, 1 FROM listening_thanks"
        f" WHERE to_member_id = %s{since}"
        ") x GROUP BY x.other)"
        " SELECT c.other, m.display_name, m.is_team, m.is_bot, c.replied_to, c.replied_by,"
        " c.thanked, c.thanked_by FROM counts c JOIN community_member m ON m.id = c.other"
        " ORDER BY c.replied_to + c.replied_by + c.thanked + c.thanked_by DESC,"
        " m.display_name, c.other LIMIT %s"
    )
    pk = member.pk
    window = PORTRAIT_INTERACTIONS
    params = [
        *(pk, window),
        *MESSAGE_KINDS,
        pk,
        *MESSAGE_KINDS,
        pk,
        *(pk, pk, window + 1, window),
        *(pk, pk, window + 1, window),
        limit,
    ]
    return [
        Contact(int(other), str(name), bool(team), bool(bot), *(int(n or 0) for n in counts))
        for other, name, team, bot, *counts in _fetch(sql, params)
    ]


# Activity over time --------------------------------------------------------------------------


@dataclass(frozen=True)
class Week:
    start: date
    count: int


@dataclass(frozen=True)
class LanguageShare:
    language: str
    messages: int
    share: float

    @property
    def percent(self) -> int:
        return round(100 * self.share)


@dataclass(frozen=True)
class SentimentMonth:
    start: date
    scored: int
    mean: float | None
    unsupported: int


@dataclass
class Activity:
    weeks: list[Week]
    languages: list[LanguageShare]
    sentiment: list[SentimentMonth]
    unsupported: int = 0

    @property
    def total(self) -> int:
        return sum(w.count for w in self.weeks)

    @property
    def has_sentiment(self) -> bool:
        return any(m.scored or m.unsupported for m in self.sentiment)

    @property
    def busiest(self) -> Week | None:
        best = max(self.weeks, key=lambda w: (w.count, w.start), default=None)
        return best if best is not None and best.count else None

    @property
    def spark_points(self) -> str:
        """The weekly counts as an SVG polyline's points in a SPARK_WIDTH × SPARK_HEIGHT box."""
        if not self.weeks:
            return ""
        top = max(w.count for w in self.weeks) or 1
        step = SPARK_WIDTH / max(len(self.weeks) - 1, 1)
        return " ".join(
            f"{n * step:.1f},{SPARK_HEIGHT - 2 - (SPARK_HEIGHT - 4) * w.count / top:.1f}"
            for n, w in enumerate(self.weeks)
        )

    @property
    def spark_description(self) -> str:
        if not self.weeks:
            return "No activity."
        busiest = self.busiest
        text = (
            f"{self.total} interactions in the {len(self.weeks)} weeks to the week of "
            f"{self.weeks[-1].start.isoformat()}"
        )
        if busiest is not None:
            text += f"; busiest: the week of {busiest.start.isoformat()}, with {busiest.count}"
        return text + "."


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _month_back(month: date, n: int) -> date:
    total = month.year * 12 + month.month - 1 - n
    return date(total // 12, total % 12 + 1, 1)


# Days of activity read for the weekly counts, back from the last one: SPARKLINE_WEEKS weeks
# and the days back to a Monday, with room to spare.
WEEKS_DAYS = 400


def _days_before_last(member_param: str) -> str:
    """SQL of the day WEEKS_DAYS days before the member's last day of activity."""
    last = f"(SELECT MAX(day) FROM metrics_dailymemberactivity WHERE member_id = {member_param})"  # noqa: S608
    if connection.vendor == "postgresql":
        return f"{last} - {WEEKS_DAYS}"
    return f"date({last}, '-{WEEKS_DAYS} days')"  # SQLite keeps dates as 'YYYY-MM-DD'


def _day(column: str) -> str:
    """SQL of a stored time's UTC day, to group by: a date on PostgreSQL (its to_char, which
    day_sql uses, cost more than the rest of the weekly counts), 'YYYY-MM-DD' on SQLite."""
    if connection.vendor == "postgresql":
        return f"CAST(({column} AT TIME ZONE 'UTC') AS date)"
    return day_sql(column)


def activity(member: Member) -> Activity:
    """Weekly interactions over the SPARKLINE_WEEKS weeks ending with the member's last
    activity, the share of their analysed messages per language, and their monthly mean
    sentiment over SENTIMENT_MONTHS months (supported languages only; unsupported counted).
    The weekly counts are read from the daily member rollup, which the importer, merges and
    unmerges keep (metrics/rollups.py): the busiest member's year is 3,698 rows there (one per
    day, source and channel) against 31,178 interactions, read from a covering index.
    Languages and sentiment are those of the portrait's window."""
    day = _day("i.created_at")
    supported = _in(SUPPORTED_LABELS)
    # One query, two kinds of rows: "w" counts per day for the sparkline, "s" the labels.
    sql = (
        "SELECT 'w', r.day, NULL, SUM(r.interactions), 0, 0, 0.0, 0"  # noqa: S608
        " FROM metrics_dailymemberactivity r"
        f" WHERE r.member_id = %s AND r.day >= {_days_before_last('%s')} GROUP BY r.day"
        f" UNION ALL SELECT 's', {day}, e.language, COUNT(*),"
        f" SUM(CASE WHEN e.analyzed = %s AND i.kind IN ({_in(MESSAGE_KINDS)}) THEN 1 ELSE 0 END),"
        f" SUM(CASE WHEN e.sentiment_label IN ({supported}) AND e.sentiment IS NOT NULL"
        " THEN 1 ELSE 0 END),"
        f" SUM(CASE WHEN e.sentiment_label IN ({supported}) AND e.sentiment IS NOT NULL"
        " THEN e.sentiment ELSE 0 END),"
        " SUM(CASE WHEN e.sentiment_label = %s THEN 1 ELSE 0 END)"
        f" FROM ({_recent('id, kind, created_at')}) i"
        " LEFT JOIN listening_enrichment e ON e.interaction_id = i.id"
        f" GROUP BY {day}, e.language"
    )
    params = [
        member.pk,
        member.pk,
        True,
        *MESSAGE_KINDS,
        *SUPPORTED_LABELS,
        *SUPPORTED_LABELS,
        SentimentLabel.UNSUPPORTED,
        member.pk,
        PORTRAIT_INTERACTIONS,
    ]
    per_day: dict[date, int] = defaultdict(int)
    languages: dict[str, int] = defaultdict(int)
    months: dict[date, list[float]] = defaultdict(lambda: [0, 0.0, 0])
    for part, day_text, language, count, analyzed, scored, total, unsupported in _fetch(
        sql, params
    ):
        on = date.fromisoformat(str(day_text)[:10])
        if part == "w":
            per_day[on] += int(count)
            continue
        if language and analyzed:
            languages[str(language)] += int(analyzed)
        month = months[on.replace(day=1)]
        month[0] += int(scored or 0)
        month[1] += float(total or 0.0)
        month[2] += int(unsupported or 0)
    if not per_day:
        return Activity([], [], [])

    last = max(per_day)
    first_week = _monday(last) - timedelta(weeks=SPARKLINE_WEEKS - 1)
    counts: dict[date, int] = defaultdict(int)
    for on, n in per_day.items():
        if on >= first_week:
            counts[_monday(on)] += n
    weeks = [
        Week(start, counts[start])
        for start in (first_week + timedelta(weeks=n) for n in range(SPARKLINE_WEEKS))
    ]

    analysed = sum(languages.values())
    shares = [
        LanguageShare(language, n, n / analysed)
        for language, n in sorted(languages.items(), key=lambda item: (-item[1], item[0]))
    ]

    last_month = last.replace(day=1)
    trend = []
    unsupported_total = 0
    for n in range(SENTIMENT_MONTHS - 1, -1, -1):
        start = _month_back(last_month, n)
        scored, total, unsupported = months.get(start, [0, 0.0, 0])
        unsupported_total += int(unsupported)
        trend.append(
            SentimentMonth(start, int(scored), total / scored if scored else None, int(unsupported))
        )
    return Activity(weeks, shares, trend, unsupported_total)
