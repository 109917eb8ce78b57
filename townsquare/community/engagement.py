"""Engagement levels: who is core, active, casual, silent or new, and why (docs/metrics.md).

A member's score is their activity weighted by kind and decayed by age (Orbit-style):

    score = Σ WEIGHTS[kind] × 0.5 ^ (age_days / HALF_LIFE_DAYS)

over all their interactions, where age_days counts whole UTC days from the interaction's day to
the day of the computation. Levels come by rank among the ranked members (not staff, not bots,
not merged away, with a score above zero). `refresh_engagement` computes everyone's in one
streamed aggregate query (per member, kind and day) and stores them as
`people.EngagementScore`, with the figures that explain each level.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from townsquare.community.models import Identity, Interaction, InteractionKind, Member
from townsquare.listening.models import SentimentLabel
from townsquare.people.models import EngagementLevel, EngagementScore

# What one interaction of each kind weighs before decay; kinds not listed weigh nothing.
WEIGHTS: dict[str, float] = {
    InteractionKind.POST: 3.0,
    InteractionKind.ANSWER: 2.0,
    InteractionKind.REPLY: 2.0,
    InteractionKind.COMMENT: 2.0,
    InteractionKind.MESSAGE: 1.0,
    InteractionKind.SHARE: 1.0,
    InteractionKind.ACCEPTED: 1.0,
    InteractionKind.EVENT: 1.0,
    InteractionKind.REACTION: 0.5,
    InteractionKind.VOTE: 0.5,
    InteractionKind.JOIN: 0.0,
    InteractionKind.LEAVE: 0.0,
    InteractionKind.EDIT: 0.0,
    InteractionKind.MENTION: 0.0,
    InteractionKind.BADGE: 0.0,
}
# An interaction's weight halves every this many days.
HALF_LIFE_DAYS = 60
# No interaction in this many days (today included) makes a member silent...
RECENT_DAYS = 90
# ...unless they were first seen less than this many days ago: then they are new.
NEW_MEMBER_DAYS = 30
# Core: the top 5 % of ranked members (the top one at least); active: the next 20 %.
CORE_SHARE = 0.05
ACTIVE_SHARE = 0.25

BATCH_SIZE = 2000

# "Mostly negative" (docs/metrics.md): in the window, at least MIN_SENTIMENT_MESSAGES messages
# with a sentiment (positive, neutral or negative: a language the analyzer does not support is
# left out), at least half of them negative. Window: days (None for all time) -> the
# EngagementScore flag that stores it.
MIN_SENTIMENT_MESSAGES = 3
MOOD_WINDOWS: dict[int | None, str] = {
    30: "negative_30_days",
    90: "negative_90_days",
    None: "negative_all_time",
}
SUPPORTED_SENTIMENTS = (SentimentLabel.POSITIVE, SentimentLabel.NEUTRAL, SentimentLabel.NEGATIVE)

_PLURALS: dict[str, str] = {
    InteractionKind.REPLY: "replies",
    InteractionKind.ACCEPTED: "accepted answers",
    InteractionKind.MENTION: "mentions",
}


def decay(age_days: int) -> float:
    """The share of its weight an interaction keeps after `age_days` days."""
    return float(0.5 ** (max(age_days, 0) / HALF_LIFE_DAYS))


@dataclass
class _Activity:
    score: float = 0.0
    recent: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    last_day: date | None = None


def day_sql(column: str = "created_at") -> str:
    """SQL giving a stored datetime's UTC day as 'YYYY-MM-DD' text."""
    if connection.vendor == "postgresql":
        return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
    return f"substr({column}, 1, 10)"  # SQLite keeps naive UTC text


def _activity_rows() -> Iterator[tuple[int, str, date, int]]:
    """(member id, kind, day, count) for every member's interactions, streamed."""
    day = day_sql()
    sql = (
        f"SELECT member_id, kind, {day}, COUNT(*) FROM community_interaction"  # noqa: S608
        f" WHERE member_id IS NOT NULL GROUP BY member_id, kind, {day}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        while rows := cursor.fetchmany(BATCH_SIZE):
            for member_id, kind, day_text, count in rows:
                yield int(member_id), str(kind), date.fromisoformat(str(day_text)[:10]), int(count)


def _activities(today: date) -> dict[int, _Activity]:
    found: dict[int, _Activity] = defaultdict(_Activity)
    for member_id, kind, day, count in _activity_rows():
        activity = found[member_id]
        age = (today - day).days
        activity.score += WEIGHTS.get(kind, 0.0) * count * decay(age)
        if age < RECENT_DAYS:
            activity.recent[kind] += count
        if activity.last_day is None or day > activity.last_day:
            activity.last_day = day
    return found


def negative_moods(now: datetime) -> dict[int, set[str]]:
    """The members who are mostly negative in some window, with the flags of those windows:
    one aggregate over the labelled messages, grouped by member."""
    negative = Q(enrichment__sentiment_label=SentimentLabel.NEGATIVE)
    counts: dict[str, Count] = {}
    for days, flag in MOOD_WINDOWS.items():
        within = Q() if days is None else Q(created_at__gte=now - timedelta(days=days))
        counts[f"{flag}_n"] = Count("pk", filter=within) if days else Count("pk")
        counts[f"{flag}_negative"] = Count("pk", filter=within & negative)
    rows = (
        Interaction.objects.filter(
            member__isnull=False, enrichment__sentiment_label__in=SUPPORTED_SENTIMENTS
        )
        .order_by()
        .values("member_id")
        .annotate(**counts)
        # The all-time count bounds the others: a member below it is below everywhere.
        .filter(**{f"{MOOD_WINDOWS[None]}_n__gte": MIN_SENTIMENT_MESSAGES})
    )
    moods: dict[int, set[str]] = {}
    for found in rows.iterator(chunk_size=BATCH_SIZE):
        row: Mapping[str, Any] = found
        flags = {
            flag
            for flag in MOOD_WINDOWS.values()
            if row[f"{flag}_n"] >= MIN_SENTIMENT_MESSAGES
            and 2 * row[f"{flag}_negative"] >= row[f"{flag}_n"]
        }
        if flags:
            moods[int(row["member_id"])] = flags
    return moods


def refresh_engagement(*, now: datetime | None = None) -> dict[str, int]:
    """Compute and store every member's engagement score and level; return the count of
    members per level."""
    now = now or timezone.now()
    today = now.astimezone(UTC).date()
    activities = _activities(today)
    moods = negative_moods(now)
    bot_members = set(
        Identity.objects.filter(is_bot=True).values_list("member_id", flat=True).distinct()
    )
    people = list(
        Member.objects.filter(merged_into__isnull=True)
        .order_by("id")
        .values_list("id", "is_team", "is_bot", "first_seen_at", "created_at")
    )
    ranked_scores = sorted(
        activities[pk].score
        for pk, is_team, is_bot, _, _ in people
        if not is_team
        and not is_bot
        and pk not in bot_members
        and pk in activities
        and activities[pk].score > 0
    )
    ranked = len(ranked_scores)

    rows: list[EngagementScore] = []
    totals: dict[str, int] = defaultdict(int)
    for pk, is_team, is_bot, first_seen_at, created_at in people:
        activity = activities.get(pk) or _Activity()
        first_seen = first_seen_at or created_at
        explanation: dict[str, Any] = {
            "score": round(activity.score, 2),
            "recent": dict(sorted(activity.recent.items())),
            "recent_days": RECENT_DAYS,
            "half_life_days": HALF_LIFE_DAYS,
            "last_active": activity.last_day.isoformat() if activity.last_day else None,
            "first_seen": first_seen.date().isoformat() if first_seen else None,
            "ranked": ranked,
        }
        if is_team or is_bot or pk in bot_members:
            level = EngagementLevel.UNRANKED
            explanation["reason"] = "team" if is_team else "bot"
        else:
            position = None
            if activity.score > 0:
                # Ties share the best position: 1 + how many score strictly higher.
                position = ranked - bisect_right(ranked_scores, activity.score) + 1
                explanation["position"] = position
                explanation["top_percent"] = math.ceil(100 * position / ranked)
            level = _level(activity, position, ranked, first_seen, now, today)
        explanation["level"] = str(level)
        totals[str(level)] += 1
        mood = moods.get(pk, set())
        rows.append(
            EngagementScore(
                member_id=pk,
                score=activity.score,
                level=level,
                explanation=explanation,
                computed_at=now,
                **{flag: flag in mood for flag in MOOD_WINDOWS.values()},
            )
        )
    with transaction.atomic():
        EngagementScore.objects.all().delete()
        EngagementScore.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    return dict(totals)


def _level(
    activity: _Activity,
    position: int | None,
    ranked: int,
    first_seen: datetime | None,
    now: datetime,
    today: date,
) -> EngagementLevel:
    if first_seen is not None and first_seen > now - timedelta(days=NEW_MEMBER_DAYS):
        return EngagementLevel.NEW
    if activity.last_day is None or (today - activity.last_day).days >= RECENT_DAYS:
        return EngagementLevel.SILENT
    if position is None:
        # Active lately, but only in kinds that weigh nothing (joins, edits).
        return EngagementLevel.CASUAL
    if position <= max(1.0, CORE_SHARE * ranked):
        return EngagementLevel.CORE
    if position <= ACTIVE_SHARE * ranked:
        return EngagementLevel.ACTIVE
    return EngagementLevel.CASUAL


def engagement_of(member: Member) -> EngagementScore | None:
    """The member's stored engagement (None before the first refresh), in one query."""
    return EngagementScore.objects.filter(member=member).first()


def _kind_phrase(kind: str, count: int) -> str:
    label = str(dict(InteractionKind.choices).get(kind, kind)).lower()
    if count != 1:
        label = _PLURALS.get(kind, label + "s")
    return f"{count} {label}"


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def describe(explanation: Mapping[str, Any], *, with_level: bool = True) -> str:
    """The level and its reasons in one plain sentence, from the stored figures; only the
    reasons with `with_level=False`, where the level is shown beside them."""
    level = str(explanation.get("level", ""))
    reasons = _reasons(explanation, level)
    if not with_level:
        return reasons[:1].upper() + reasons[1:]
    return f"{dict(EngagementLevel.choices).get(level, level)}: {reasons}"


def _reasons(explanation: Mapping[str, Any], level: str) -> str:
    score = float(explanation.get("score", 0.0))
    half_life = explanation.get("half_life_days", HALF_LIFE_DAYS)
    days = explanation.get("recent_days", RECENT_DAYS)
    formula = f"score {score:g} (activity weighted by kind, halved every {half_life} days)"
    if level == EngagementLevel.UNRANKED:
        who = "part of the team" if explanation.get("reason") == "team" else "an automated account"
        return f"{who}; staff and bots are left out of engagement levels."
    recent: dict[str, int] = dict(explanation.get("recent") or {})
    counted = sorted(
        ((kind, n) for kind, n in recent.items() if n), key=lambda item: (-item[1], item[0])
    )
    did = _join([_kind_phrase(kind, n) for kind, n in counted[:3]]) if counted else ""
    if level == EngagementLevel.NEW:
        since = explanation.get("first_seen") or "recently"
        so_far = f"{did} so far" if did else "no activity yet"
        return f"first seen {since}, {so_far}; {formula}."
    if level == EngagementLevel.SILENT:
        last = explanation.get("last_active")
        seen = f"last active {last}" if last else "never active"
        return f"no interaction in the last {days} days ({seen}); {formula}."
    top = explanation.get("top_percent")
    rank = f", top {top} % of {explanation.get('ranked', 0)} ranked members" if top else ""
    return f"{did or 'some activity'} in the last {days} days{rank}; {formula}."
