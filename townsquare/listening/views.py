"""The pulse pages: trends per channel and period, topics, and spike alerts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from townsquare.community.models import Channel, Interaction
from townsquare.front.access import can_read, requires
from townsquare.listening import pulse as pulse_data
from townsquare.listening.models import Alert, AlertMetric

RANGES = {
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "90d": "Last 90 days",
    "12m": "Last 12 months",
}
DEFAULT_RANGE = "30d"
# The bucket each range reads best in, when none is asked for.
DEFAULT_PERIOD = {"7d": "day", "30d": "day", "90d": "week", "12m": "month"}
PERIOD_LABELS = {"day": "Day", "week": "Week", "month": "Month"}
# Channels drawn one by one; the others are reachable through the channel filter.
MAX_CHANNELS = 20
ALERTS_PER_PAGE = 50
LATEST_ALERTS = 5


class PulseForm(forms.Form):
    range = forms.ChoiceField(label="Period", choices=list(RANGES.items()), required=False)
    period = forms.ChoiceField(
        label="By", choices=[("", "Automatic"), *PERIOD_LABELS.items()], required=False
    )
    # Rendered by hand from the channels active in the period (no query for a long list).
    channel = forms.IntegerField(required=False, min_value=1)
    # The last day shown (default today): for a community whose export ends in the past.
    until = forms.DateField(label="Up to", required=False, widget=forms.DateInput({"type": "date"}))

    def values(self) -> dict[str, Any]:
        """The valid choices; a bad value falls back to its default rather than failing."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        chosen_range = data.get("range") or DEFAULT_RANGE
        return {
            "range": chosen_range,
            "period": data.get("period") or DEFAULT_PERIOD[chosen_range],
            "channel": data.get("channel"),
            "until": data.get("until"),
        }


def date_range(chosen: str, last_day: date, period: pulse_data.Period) -> tuple[date, date]:
    """[since, until) for a range ending on `last_day` (included); `since` snaps back to the
    start of its bucket so the first bucket is a whole one."""
    if chosen == "12m":
        month = last_day.month - 11
        year = last_day.year + (month - 1) // 12
        since = date(year, (month - 1) % 12 + 1, 1)
    else:
        since = last_day - timedelta(days=int(chosen.removesuffix("d")) - 1)
    return pulse_data.bucket_start(since, period), last_day + timedelta(days=1)


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str


def chart(values: list[tuple[str, float | None, str]], height: int = 48) -> dict[str, Any]:
    """Bars of an inline SVG, drawn here so the page needs no script: (label, value, shown)
    per bucket; a bucket without a value gets no bar."""
    step = 6
    top = max((v for _, v, _ in values if v is not None), default=0.0)
    bars = []
    for n, (label, value, shown) in enumerate(values):
        if value is None:
            continue
        h = (value / top * (height - 2)) if top > 0 else 0.0
        h = max(h, 1.0) if value > 0 else 0.0
        bars.append(Bar(n * step, height - h, step - 1, h, f"{label}: {shown}"))
    return {"width": max(len(values) * step, step), "height": height, "bars": bars}


def _number(value: float | None, digits: int = 2) -> str:
    return "\u2013" if value is None else f"{value:+.{digits}f}"


def _share(value: float | None) -> str:
    return "\u2013" if value is None else f"{value * 100:.1f} %"


def _bucket_label(start: date | None, period: str) -> str:
    if start is None:
        return ""
    if period == "month":
        return f"{start:%b %Y}"
    if period == "week":
        return f"week of {start.day} {start:%b %Y}"
    return f"{start.day} {start:%b %Y}"


def _row(figures: pulse_data.Figures, period: str) -> dict[str, Any]:
    return {
        "label": _bucket_label(figures.start, period),
        "volume": figures.volume,
        "active_members": figures.active_members,
        "mean_sentiment": _number(figures.mean_sentiment),
        "negative_share": _share(figures.negative_share),
        "negative": figures.negative,
        "supported": figures.supported,
        "unsupported": figures.unsupported,
    }


def _trend_view(trend: pulse_data.Trend, period: str) -> dict[str, Any]:
    rows = [_row(b, period) for b in trend.buckets]
    return {
        "trend": trend,
        "total": _row(trend.total, period),
        "rows": rows,
        "volume_chart": chart(
            [
                (r["label"], float(b.volume), str(b.volume))
                for r, b in zip(rows, trend.buckets, strict=True)
            ]
        ),
        "negative_chart": chart(
            [
                (r["label"], b.negative_share, r["negative_share"])
                for r, b in zip(rows, trend.buckets, strict=True)
            ]
        ),
    }


def _topic_rows(items: list[pulse_data.Topic]) -> list[dict[str, Any]]:
    return [
        {
            "keyword": t.keyword,
            "count": t.count,
            "share": _share(t.share),
            "previous_count": t.previous_count,
            "lift": f"{t.lift:.1f}\u00d7",
            "rising": t.lift >= 1.5,
            "new": t.is_new,
        }
        for t in items
    ]


@requires(can_read)
@require_safe
def pulse(request: HttpRequest) -> HttpResponse:
    form = PulseForm(request.GET)
    choice = form.values()
    today = timezone.now().astimezone(UTC).date()
    last_day: date = choice["until"] or today
    period: pulse_data.Period = choice["period"]
    since, until = date_range(choice["range"], last_day, period)

    data = pulse_data.trends(since, until, period)
    channel_id: int | None = choice["channel"]
    selected = next((t for t in data.channels if t.channel_id == channel_id), None)
    if channel_id is not None and selected is None:
        channel_id = None  # not active in this period: show everything
    shown = [selected] if selected else data.channels[:MAX_CHANNELS]
    scope = [channel_id] if channel_id is not None else None

    top_topics = pulse_data.topics(since, until, channel_ids=scope, limit=15)
    by_channel = pulse_data.topics_by_channel(since, until, channel_ids=scope)
    latest = Alert.objects.select_related("channel__source")
    if channel_id is not None:
        latest = latest.filter(channel_id=channel_id)
    latest_data_day = None
    if not data.overall.total.volume and not data.overall.total.active_members:
        latest_data_day = Interaction.newest_day()

    context = {
        "section": "pulse",
        "form": form,
        "ranges": RANGES,
        "periods": PERIOD_LABELS,
        "choice": {**choice, "channel": channel_id},
        "since": since,
        "last_day": until - timedelta(days=1),
        "previous": (pulse_data.previous_period(since, until)[0], since - timedelta(days=1)),
        "period": period,
        "overall": _trend_view(selected or data.overall, period),
        "channels": [
            {**_trend_view(t, period), "topics": _topic_rows(by_channel.get(t.channel_id, []))}
            for t in shown
        ],
        "all_channels": data.channels,
        "hidden_channels": len(data.channels) - len(shown),
        "topics": _topic_rows(top_topics),
        "min_topic_count": pulse_data.MIN_TOPIC_COUNT,
        "alerts": list(latest[:LATEST_ALERTS]),
        "latest_data_day": latest_data_day,
    }
    return render(request, "listening/pulse.html", context)


class ChannelChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"#{obj.name} ({obj.source.name})"


class AlertFilterForm(forms.Form):
    metric = forms.ChoiceField(
        label="Metric", choices=[("", "All metrics"), *AlertMetric.choices], required=False
    )
    channel = ChannelChoiceField(
        label="Channel",
        # Only channels that have alerts: a Q&A site can have thousands of tags.
        queryset=Channel.objects.filter(
            id__in=Alert.objects.filter(channel__isnull=False).values("channel_id")
        )
        .select_related("source")
        .order_by("name", "id"),
        required=False,
        empty_label="All channels",
    )

    def values(self) -> dict[str, Any]:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {"metric": data.get("metric") or "", "channel": data.get("channel")}


@requires(can_read)
@require_safe
def alerts(request: HttpRequest) -> HttpResponse:
    form = AlertFilterForm(request.GET)
    filters = form.values()
    items = Alert.objects.select_related("channel__source", "acknowledged_by")
    if filters["metric"]:
        items = items.filter(metric=filters["metric"])
    if filters["channel"]:
        items = items.filter(channel=filters["channel"])
    page = Paginator(items, ALERTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"section": "pulse", "form": form, "filters": filters, "page": page}
    headers = request.headers
    partial = (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Target") == "alert-results"
        and headers.get("HX-History-Restore-Request") != "true"
    )
    response = render(
        request, "listening/_alert_results.html" if partial else "listening/alerts.html", context
    )
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


@requires(can_read)
@require_POST
def acknowledge(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = get_object_or_404(Alert, pk=alert_id)
    if alert.acknowledged_at is None:
        alert.acknowledged_by = request.user  # type: ignore[assignment]
        alert.acknowledged_at = timezone.now()
        alert.save(update_fields=["acknowledged_by", "acknowledged_at"])
        messages.success(request, "Alert acknowledged.")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("pulse_alerts")
    return HttpResponseRedirect(back)
