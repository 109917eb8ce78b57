"""What a weekly digest says: `build_digest(week_start)` gathers one week's figures against the
week before, who needs care, the milestones, the spikes and the new members to welcome, as
plain data (JSON) for the `Digest` row, the page, the email and the command.

A week runs from Monday 00:00 to the next Monday 00:00 in the community's time zone
(`COMMUNITY_TIME_ZONE`, setting `TOWNSQUARE_TIME_ZONE`), so it is 167 or 169 hours long when
daylight saving time starts or ends in it. The figures are the metrics of docs/metrics.md
(their functions, the pulse's and the inbox rollup's), given the week's two instants.
Member names are not stored: pages and emails read them when they show a digest, so a
later erasure (community/privacy.py) leaves no name behind in old digests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from townsquare.care import today
from townsquare.care.models import CareItem, CareReason, Rule, Status
from townsquare.community.models import Member
from townsquare.front.templatetags.townsquare import duration
from townsquare.inbox.models import ConversationState
from townsquare.listening import pulse
from townsquare.listening.models import Alert
from townsquare.metrics import definitions as metrics

# Bump when the stored content's shape changes; pages read older digests as they were built.
CONTENT_VERSION = 1
CARE_ITEMS = 5
REASONS_PER_ITEM = 3
MILESTONES = 10
SPIKES = 10
WELCOME = 10

Unit = Literal["count", "duration", "share", "score"]
NOTHING = "–"


# Weeks ---------------------------------------------------------------------------------------


def community_zone() -> ZoneInfo:
    return ZoneInfo(settings.COMMUNITY_TIME_ZONE)


def week_bounds(week_start: date) -> tuple[datetime, datetime]:
    """The week's first instant and the next week's, in UTC: Monday 00:00 local time each."""
    zone = community_zone()
    start = datetime.combine(week_start, time(), tzinfo=zone)
    end = datetime.combine(week_start + timedelta(days=7), time(), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def week_of(moment: datetime) -> date:
    """The Monday (local date) of the week holding this instant."""
    day = moment.astimezone(community_zone()).date()
    return day - timedelta(days=day.weekday())


def last_full_week(now: datetime) -> date:
    """The Monday of the last week that has ended by `now`."""
    return week_of(now) - timedelta(days=7)


def check_week(week_start: date) -> None:
    if week_start.weekday() != 0:
        raise ValueError(f"a digest's week starts on a Monday; {week_start:%Y-%m-%d} is not one")


# Changes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """How a figure moved since last week, in words: "+12 %", "new", "same", "-3 pts"."""

    text: str | None
    direction: Literal["up", "down", "same"] | None


def change(value: float | None, previous: float | None, unit: Unit) -> Change:
    """Counts and durations change by a percentage of last week's value ("new" when last week
    was 0, never a division by zero); shares by percentage points; the sentiment score (−1..1)
    by its difference. No change is given when either week has no value."""
    if value is None or previous is None:
        return Change(None, None)
    delta: float
    if unit == "share":
        delta = round((value - previous) * 100)
        text = f"{delta:+d} pts"
    elif unit == "score":
        delta = round(value - previous, 2)
        text = f"{delta:+.2f}"
    elif previous == 0:
        return Change("new", "up") if value > 0 else Change("same", "same")
    else:
        delta = round((value - previous) / previous * 100)
        text = f"{delta:+d} %"
    if delta == 0:
        return Change("same", "same")
    return Change(text, "up" if delta > 0 else "down")


def _text(value: float | None, unit: Unit) -> str:
    if value is None:
        return NOTHING
    if unit == "duration":
        return duration(timedelta(seconds=value))
    if unit == "share":
        return f"{value * 100:.0f} %"
    if unit == "score":
        return f"{value:+.2f}"
    return f"{value:,.0f}"


def _figure(
    key: str,
    label: str,
    value: float | None,
    previous: float | None,
    unit: Unit,
    *,
    higher_is_better: bool,
    note: str = "",
) -> dict[str, Any]:
    moved = change(value, previous, unit)
    good = None
    if moved.direction in ("up", "down"):
        good = (moved.direction == "up") == higher_is_better
    return {
        "key": key,
        "label": label,
        "unit": unit,
        "value": value,
        "previous": previous,
        "text": _text(value, unit),
        "previous_text": _text(previous, unit),
        "change": moved.text,
        "direction": moved.direction,
        "good": good,
        "note": note,
    }


# Figures -------------------------------------------------------------------------------------


@dataclass
class WeekFigures:
    messages: int
    active_members: int
    new_members: int
    opened: int
    responded: int
    median_ttfr: float | None
    unanswered: int
    mean_sentiment: float | None
    negative_share: float | None


def week_figures(since: datetime, until: datetime, now: datetime) -> WeekFigures:
    """One week's figures, each from its metric (docs/metrics.md)."""
    scope = metrics.Scope(since=since, until=until)
    # The pulse's figures over the whole window: volume, active members (distinct over the
    # week), mean sentiment and negative share, as sentiment_trend gives them per bucket.
    totals = pulse.trends(since, until, "week").overall.total
    new = sum(metrics.new_members(scope).values())
    opened, times = _response_times(since, until)
    return WeekFigures(
        messages=totals.volume,
        active_members=totals.active_members,
        new_members=new,
        opened=opened,
        responded=len(times),
        median_ttfr=metrics.percentile(times, 0.5),
        unanswered=metrics.unanswered(scope, now=now).total,
        mean_sentiment=totals.mean_sentiment,
        negative_share=totals.negative_share,
    )


def _response_times(since: datetime, until: datetime) -> tuple[int, list[float]]:
    """The conversations opened in the window (with a first message) and the sorted times to
    first response, in seconds, of those answered: the inbox rollup's values that ttfr()
    takes its median of. ttfr() itself groups by UTC day, week or month, and a local week
    can straddle two of those, so the median of the whole week is taken here with the same
    percentile()."""
    rows = ConversationState.objects.filter(
        first_message__isnull=False, opened_at__gte=since, opened_at__lt=until
    ).values_list("response_seconds", flat=True)
    opened = 0
    times = []
    for seconds in rows:
        opened += 1
        if seconds is not None:
            times.append(seconds)
    return opened, sorted(times)


def _figures(now: WeekFigures, before: WeekFigures) -> list[dict[str, Any]]:
    hours = metrics.UNANSWERED_HOURS
    return [
        _figure("messages", "Messages", now.messages, before.messages, "count",
                higher_is_better=True),
        _figure("active_members", "Active members", now.active_members, before.active_members,
                "count", higher_is_better=True),
        _figure("new_members", "New members", now.new_members, before.new_members, "count",
                higher_is_better=True),
        _figure("median_ttfr", "Median time to first response", now.median_ttfr,
                before.median_ttfr, "duration", higher_is_better=False,
                note=f"{now.responded} of {now.opened} conversations answered"),
        _figure("unanswered", "Unanswered conversations", now.unanswered, before.unanswered,
                "count", higher_is_better=False,
                note=f"opened in the week, still awaiting a reply after {hours} hours"),
        _figure("mean_sentiment", "Mean sentiment", now.mean_sentiment, before.mean_sentiment,
                "score", higher_is_better=True, note="−1 is negative, +1 positive"),
        _figure("negative_share", "Negative messages", now.negative_share,
                before.negative_share, "share", higher_is_better=False),
    ]  # fmt: skip


# Lists ---------------------------------------------------------------------------------------


def _day(moment: datetime) -> str:
    """Like "Thu 5 Mar"."""
    return f"{moment:%a} {moment.day} {moment:%b}"


def _local(moment: datetime) -> str:
    return _day(moment.astimezone(community_zone()))


def _care() -> dict[str, Any]:
    """The open care items at the top of the queue now, with their standing reasons."""
    items = []
    for item in today.top_items(limit=CARE_ITEMS):
        reasons = getattr(item, "standing", [])[:REASONS_PER_ITEM]
        items.append(
            {
                "item_id": item.pk,
                "member_id": item.member_id,
                "priority": round(item.priority, 1),
                "for_moderators": item.for_moderators,
                "reasons": [
                    {"rule": r.rule, "label": r.get_rule_display(), "detail": r.detail}
                    for r in reasons
                ],
            }
        )
    return {"open": CareItem.objects.filter(status=Status.OPEN).count(), "items": items}


def _milestones(since: datetime, until: datetime) -> list[dict[str, Any]]:
    """The care queue's milestone reasons that fell in the week, whatever became of them."""
    reasons = CareReason.objects.filter(
        rule=Rule.MILESTONE, occurred_at__gte=since, occurred_at__lt=until
    ).order_by("occurred_at", "id")[:MILESTONES]
    return [
        {
            "item_id": r.item_id,
            "member_id": r.member_id,
            "detail": r.detail,
            "day": _local(r.occurred_at),
        }
        for r in reasons
    ]


def _spikes(week_start: date) -> list[dict[str, Any]]:
    """The alerts of the week's seven days. Alerts judge whole UTC days (docs/metrics.md), so
    they are taken by their day, Monday to Sunday, not by the local week's instants."""
    first = datetime.combine(week_start, time(), tzinfo=UTC)
    alerts = (
        Alert.objects.filter(window_start__gte=first, window_start__lt=first + timedelta(days=7))
        .select_related("channel")
        .order_by("window_start", "id")[:SPIKES]
    )
    return [
        {
            "alert_id": a.pk,
            "message": a.message,
            "metric": a.metric,
            "channel": a.channel.name if a.channel else None,
            "day": _day(a.window_start.astimezone(UTC)),
            "acknowledged": a.acknowledged_at is not None,
        }
        for a in alerts
    ]


def _welcome(since: datetime, until: datetime) -> dict[str, Any]:
    """Members first seen in the week whom staff may greet: not staff, bots, merged away,
    erased, nor marked do-not-contact. The busiest first."""
    members = Member.objects.filter(
        first_seen_at__gte=since,
        first_seen_at__lt=until,
        merged_into__isnull=True,
        erased_at__isnull=True,
        is_team=False,
        is_bot=False,
        do_not_contact=False,
    )
    listed = members.order_by("-interaction_count", "first_seen_at", "id")[:WELCOME]
    return {
        "count": members.count(),
        "members": [
            {
                "member_id": m.pk,
                "first_seen": _local(m.first_seen_at) if m.first_seen_at else NOTHING,
                "interactions": m.interaction_count,
            }
            for m in listed
        ],
    }


def _label(week_start: date) -> str:
    last = week_start + timedelta(days=6)
    if last.month == week_start.month:
        return f"{week_start.day}–{last.day} {last:%B %Y}"
    if last.year == week_start.year:
        return f"{week_start.day} {week_start:%B} – {last.day} {last:%B %Y}"
    return f"{week_start.day} {week_start:%B %Y} – {last.day} {last:%B %Y}"


def build_digest(week_start: date, *, now: datetime | None = None) -> dict[str, Any]:
    """The digest of the week starting on this Monday (local date), against the week before,
    as plain data. Care items are those open at `now` (default: now); "unanswered" counts the
    week's conversations still awaiting a reply at `now`."""
    check_week(week_start)
    now = now or timezone.now()
    since, until = week_bounds(week_start)
    before_since, _ = week_bounds(week_start - timedelta(days=7))
    return {
        "version": CONTENT_VERSION,
        "week": {
            "start": week_start.isoformat(),
            "end": (week_start + timedelta(days=6)).isoformat(),
            "since": since.isoformat(),
            "until": until.isoformat(),
            "time_zone": settings.COMMUNITY_TIME_ZONE,
            "label": _label(week_start),
        },
        "built_at": now.isoformat(),
        "figures": _figures(
            week_figures(since, until, now), week_figures(before_since, since, now)
        ),
        "care": _care(),
        "milestones": _milestones(since, until),
        "spikes": _spikes(week_start),
        "welcome": _welcome(since, until),
    }
