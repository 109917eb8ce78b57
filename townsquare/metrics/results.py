"""One metric's result as JSON data: what `townsquare metrics NAME --json` prints and what the
API's `GET /api/v1/metrics/{name}` returns, computed by the same code so the two cannot disagree."""

from __future__ import annotations

from datetime import UTC, date, timedelta
from typing import Any

from django.utils import timezone

from townsquare.listening.pulse import Period
from townsquare.metrics import definitions as m

# One line per metric, for lists of them (docs/metrics.md has the exact definitions).
SUMMARIES: dict[str, str] = {
    "ttfr": "Time to first response: median and p90 per channel and period.",
    "unanswered": "Conversations still awaiting a reply N hours after they were opened.",
    "new-members": "Members whose first interaction falls in each calendar month.",
    "active-members": "Daily, weekly and monthly active members on one day, and DAU/MAU.",
    "retention": "Monthly cohorts of new members: how many are active in each later month.",
    "drifting-away": "Regulars silent for 3 months who were active in the 3 months before.",
    "inactive-members": "Members whose last interaction is over N days old, per month.",
    "absence-factor": "The fewest members who account for half of all interactions.",
    "onion": "Members and interactions in the core, regular and casual layers.",
    "sentiment-trend": "Mean sentiment and negative share of the messages per period.",
    "activity-heatmap": "Messages per weekday and hour, in UTC and the community's time zone.",
}
# The metrics that take each option beyond the scope.
TAKES_PERIOD = ("ttfr", "sentiment-trend")
TAKES_HOURS = ("unanswered",)
TAKES_DAYS = ("inactive-members",)


def scope_for(
    *, source: str | None, channel: str | None, since: date | None, last: date | None
) -> m.Scope:
    """The scope from `since` to `last`, both days included, as the command line takes them."""
    return m.Scope(
        source=source,
        channel=channel,
        since=since,
        until=last + timedelta(days=1) if last else None,
    )


def compute(
    name: str,
    scope: m.Scope,
    *,
    period: Period = "month",
    hours: int = m.UNANSWERED_HOURS,
    days: int = m.INACTIVE_DAYS,
    last: date | None = None,
) -> dict[str, Any]:
    """`{"metric": name, ...}` with the metric's figures. `last` is the last day included (for
    active-members, the day measured: today when None). Raises definitions.ScopeError for a
    source or channel that does not exist."""
    return {"metric": name, **_figures(name, scope, period, hours, days, last)}


def _figures(
    name: str, scope: m.Scope, period: Period, hours: int, days: int, last: date | None
) -> dict[str, Any]:
    if name == "ttfr":
        return {"rows": [r.as_dict() for r in m.ttfr(scope, period)]}
    if name == "unanswered":
        return m.unanswered(scope, hours).as_dict()
    if name == "new-members":
        return {"per_month": {k.isoformat(): v for k, v in m.new_members(scope).items()}}
    if name == "active-members":
        day = last or timezone.now().astimezone(UTC).date()
        return m.active_members(scope, day).as_dict()
    if name == "retention":
        return {"cohorts": [c.as_dict() for c in m.retention(scope)]}
    if name == "drifting-away":
        return m.drifting_away(scope).as_dict()
    if name == "inactive-members":
        return m.inactive_members(scope, days).as_dict()
    if name == "absence-factor":
        return m.absence_factor(scope).as_dict()
    if name == "onion":
        return m.onion(scope).as_dict()
    if name == "sentiment-trend":
        return {"rows": [r.as_dict() for r in m.sentiment_trend(scope, period)]}
    if name == "activity-heatmap":
        return m.activity_heatmap(scope).as_dict()
    raise ValueError(f"NAME: expected one of {', '.join(m.METRICS)}, got {name!r}")
