"""Spike alerts: a channel's day far above its trailing 7-day norm becomes an `Alert`.

A day's value is a spike when it is strictly above mean + k·sigma of the 7 days before it (k from
the setting TOWNSQUARE_SPIKE_K, default 2; sigma the population standard deviation) and at least a
minimum amount above the mean (so a flat history, sigma = 0, does not turn one extra message into
an alert). One spike alerts once: a day whose previous day was already above its own band
continues the same spike, and a window already alerted is never alerted again, so running
the check twice changes nothing. The exact rules are in docs/metrics.md ("Pulse").
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from statistics import fmean, pstdev

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db.models import Min
from django.urls import reverse
from django.utils import timezone

from townsquare.community.models import Interaction
from townsquare.listening.models import Alert, AlertMetric
from townsquare.listening.pulse import Figures, Trend, trends
from townsquare.webhooks.events import emit, spike_payloads

logger = logging.getLogger(__name__)

SIGMA = "\u03c3"

TRAILING_DAYS = 7
DEFAULT_K = 2.0
# A share is only judged on a day with at least this many messages to take it from.
DEFAULT_MIN_MESSAGES = 10
# How far above the mean a value must be, whatever sigma says.
MIN_DELTA = {
    AlertMetric.VOLUME: 5.0,  # messages
    AlertMetric.NEGATIVE_SHARE: 0.10,  # 10 percentage points
    AlertMetric.TOXIC_SHARE: 0.10,
}
# The check after each enrichment looks at today and the days before it: an import of an
# export can bring the last days' messages late.
DEFAULT_LOOKBACK_DAYS = 3


def spike_k() -> float:
    return float(getattr(settings, "TOWNSQUARE_SPIKE_K", DEFAULT_K))


def min_messages() -> int:
    return int(getattr(settings, "TOWNSQUARE_SPIKE_MIN_MESSAGES", DEFAULT_MIN_MESSAGES))


@dataclass(frozen=True)
class Band:
    """The trailing norm of a day: its mean, sigma, and the threshold mean + k·sigma."""

    mean: float
    std: float
    k: float

    @property
    def upper(self) -> float:
        return self.mean + self.k * self.std


def band(history: Sequence[float | None], k: float) -> Band | None:
    """The band of 7 trailing values; None unless all 7 are known."""
    if len(history) < TRAILING_DAYS or any(v is None for v in history):
        return None
    values = [float(v) for v in history[-TRAILING_DAYS:] if v is not None]
    return Band(fmean(values), pstdev(values), k)


def is_spike(
    value: float | None, history: Sequence[float | None], k: float, min_delta: float
) -> bool:
    """Strictly above mean + k·sigma of the 7 trailing values, and at least `min_delta` above the
    mean; never with fewer than 7 known trailing values."""
    limits = band(history, k)
    if value is None or limits is None:
        return False
    return value > limits.upper and value - limits.mean >= min_delta


@dataclass
class Spike:
    channel_id: int | None
    channel_name: str
    metric: AlertMetric
    day: date
    value: float
    band: Band

    def message(self) -> str:
        where = f"#{self.channel_name}" if self.channel_id is not None else "the community"
        when = f"{self.day.day} {self.day:%b %Y}"
        b = self.band
        if b.std > 0:
            how = f"is {(self.value - b.mean) / b.std:.1f}{SIGMA} above its 7-day norm"
        else:
            how = "is above its 7-day norm, which was flat"
        if self.metric == AlertMetric.VOLUME:
            what = f"Volume in {where} on {when}"
            figures = f"{self.value:.0f} messages vs {b.mean:.1f} a day usually"
        else:
            noun = "negative sentiment" if self.metric == AlertMetric.NEGATIVE_SHARE else "toxicity"
            what = f"{noun.capitalize()} in {where} on {when}"
            figures = f"{_percent(self.value)} of messages vs {_percent(b.mean)} usually"
        return f"{what} {how}: {figures}."


def _percent(share: float) -> str:
    return f"{share * 100:.0f} %"


def _series(trend: Trend, metric: AlertMetric, minimum: int) -> dict[date, float | None]:
    def value(f: Figures) -> float | None:
        if metric == AlertMetric.VOLUME:
            return float(f.volume)
        if metric == AlertMetric.NEGATIVE_SHARE:
            return f.negative_share if f.supported >= minimum else None
        return f.toxic_share if f.analyzed >= minimum else None

    return {f.start: value(f) for f in trend.buckets if f.start is not None}


def find_spikes(
    since: date, until: date, *, k: float | None = None, minimum: int | None = None
) -> list[Spike]:
    """The spikes of every channel on the days [since, until) (UTC), first days only."""
    k = spike_k() if k is None else k
    minimum = min_messages() if minimum is None else minimum
    # Each checked day needs its 7 trailing days, and the day before it needs its own.
    daily = trends(since - timedelta(days=TRAILING_DAYS + 1), until, "day")
    channels = [t for t in daily.channels if t.channel_id is not None]
    first_days = _first_days([t.channel_id for t in channels if t.channel_id is not None])
    found: list[Spike] = []
    for trend in channels:
        first = first_days.get(trend.channel_id or 0)
        for metric in AlertMetric:
            found.extend(_channel_spikes(trend, metric, first, since, until, k, minimum))
    return found


def _channel_spikes(
    trend: Trend,
    metric: AlertMetric,
    first: date | None,
    since: date,
    until: date,
    k: float,
    minimum: int,
) -> list[Spike]:
    series = _series(trend, metric, minimum)

    def known(day: date) -> float | None:
        # Before the channel's first interaction there is no history, not a zero.
        return series.get(day) if first is not None and day >= first else None

    def history(day: date) -> list[float | None]:
        return [known(day - timedelta(days=n)) for n in range(TRAILING_DAYS, 0, -1)]

    def spike_on(day: date) -> bool:
        return is_spike(known(day), history(day), k, MIN_DELTA[metric])

    found = []
    day = since
    while day < until:
        # A day after a spike day is the same spike: one spike alerts once.
        if spike_on(day) and not spike_on(day - timedelta(days=1)):
            limits = band(history(day), k)
            value = known(day)
            if limits is not None and value is not None:
                found.append(Spike(trend.channel_id, trend.name, metric, day, value, limits))
        day += timedelta(days=1)
    return found


def _first_days(channel_ids: list[int]) -> dict[int, date]:
    if not channel_ids:
        return {}
    rows = (
        Interaction.objects.filter(channel_id__in=channel_ids)
        .values("channel_id")
        .annotate(first=Min("created_at"))
        .values_list("channel_id", "first")
    )
    return {channel_id: first.astimezone(UTC).date() for channel_id, first in rows if first}


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def check_alerts(
    since: date | None = None,
    until: date | None = None,
    *,
    k: float | None = None,
    email: bool = True,
) -> list[Alert]:
    """Find the spikes of the days [since, until) (default: the last few days up to today),
    store the new ones as Alert rows and email them to staff; returns the new alerts."""
    today = timezone.now().astimezone(UTC).date()
    until = until or today + timedelta(days=1)
    since = since or until - timedelta(days=DEFAULT_LOOKBACK_DAYS)
    k = spike_k() if k is None else k
    spikes = find_spikes(since, until, k=k)
    if not spikes:
        return []
    existing = set(
        Alert.objects.filter(
            window_start__gte=_start_of(since), window_start__lt=_start_of(until)
        ).values_list("channel_id", "metric", "window_start")
    )
    new = []
    for s in spikes:
        start = _start_of(s.day)
        if (s.channel_id, s.metric.value, start) in existing:
            continue
        new.append(
            Alert(
                channel_id=s.channel_id,
                metric=s.metric,
                window_start=start,
                window_end=start + timedelta(days=1),
                value=s.value,
                mean=s.band.mean,
                std=s.band.std,
                k=s.band.k,
                message=s.message(),
            )
        )
    # ignore_conflicts: a check running at the same time may have stored the same alert.
    Alert.objects.bulk_create(new, ignore_conflicts=True)
    created = _stored(new)
    emit("spike", lambda: spike_payloads(created))
    if email and created:
        email_alerts(created)
    return created


def _stored(new: list[Alert]) -> list[Alert]:
    """The rows of these alerts as stored (ids included), newest first."""
    if not new:
        return []
    keys = {(a.channel_id, a.metric, a.window_start) for a in new}
    windows = {a.window_start for a in new}
    return [
        a
        for a in Alert.objects.filter(window_start__in=windows).select_related("channel")
        if (a.channel_id, a.metric, a.window_start) in keys
    ]


def emails_enabled() -> bool:
    return bool(getattr(settings, "TOWNSQUARE_ALERT_EMAILS", False))


def email_alerts(alerts: Sequence[Alert]) -> int:
    """Mail the alerts to every active staff user with an address, when alert emails are on;
    returns the number of messages sent. A mail failure is logged, never raised: the alerts
    are stored and listed on the pulse page anyway."""
    if not alerts or not emails_enabled():
        return 0
    users = get_user_model().objects.filter(is_staff=True, is_active=True).exclude(email="")
    recipients = sorted({u.email for u in users})
    if not recipients:
        return 0
    count = len(alerts)
    subject = f"[Townsquare] {count} new alert{'s' if count != 1 else ''}"
    link = settings.SITE_URL.rstrip("/") + reverse("pulse_alerts")
    body = "\n".join(
        ["Townsquare noticed:", "", *(f"- {a.message}" for a in alerts), "", f"All alerts: {link}"]
    )
    try:
        return send_mail(subject, body, None, recipients)
    except Exception:  # SMTP errors come in many types; the alerts stay listed in the UI
        logger.exception("could not email %s alert(s)", count)
        return 0
