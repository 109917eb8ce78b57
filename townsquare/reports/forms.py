"""The Reports page's pickers: a period, a source, a channel and a segment, checked into
`Picks` that every chart, table view and download reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.utils import timezone

from townsquare.community.models import Channel, Source
from townsquare.front.members_filters import filter_members, parse_filters
from townsquare.listening import pulse
from townsquare.listening.pulse import Period
from townsquare.listening.views import date_range
from townsquare.metrics.definitions import Scope
from townsquare.segments.models import Segment

RANGES = {
    "30d": "Last 30 days",
    "90d": "Last 90 days",
    "12m": "Last 12 months",
    "custom": "Custom dates",
}
DEFAULT_RANGE = "30d"
PERIOD_LABELS = {"day": "Day", "week": "Week", "month": "Month"}
# The bucket each preset reads best in (as on the pulse page).
DEFAULT_PERIOD: dict[str, Period] = {"30d": "day", "90d": "week", "12m": "month"}
# Some charts take one query per period (DAU/WAU/MAU, absence factor): a bound on the periods
# keeps the page's time bounded too.
MAX_PERIODS = 125
MAX_CUSTOM_DAYS = 3660
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2100, 12, 31)


class SourceChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.get_platform_display()})"


class ChannelChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"#{obj.name} ({obj.source.name})"


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


@dataclass(frozen=True)
class Picks:
    """The checked pickers: the UTC days [since, until), the period charts are bucketed by,
    and what the figures are narrowed to."""

    since: date
    until: date  # excluded
    period: Period
    range: str
    source: Source | None = None
    channel: Channel | None = None
    segment: Segment | None = None

    @property
    def last_day(self) -> date:
        return self.until - timedelta(days=1)

    def scope(self, since: date | None = None, until: date | None = None) -> Scope:
        """The metrics' scope of these picks (or of a part of the period): the segment's
        members as it selects them now."""
        source = self.channel.source if self.channel else self.source
        members = filter_members(parse_filters(self.segment.filters)) if self.segment else None
        return Scope(
            source=source.name if source else None,
            channel=self.channel.name if self.channel else None,
            since=since or self.since,
            until=until or self.until,
            members=members,
        )

    def buckets(self) -> list[date]:
        """The first day of every period of the range."""
        return pulse.bucket_starts(self.since, self.until, self.period)

    def params(self) -> dict[str, str]:
        """The query string that gives these picks back (for the charts and downloads)."""
        params = {"range": self.range}
        if self.range == "custom":
            params |= {"since": self.since.isoformat(), "until": self.last_day.isoformat()}
        params["period"] = self.period
        for name, value in (("source", self.source), ("channel", self.channel)):
            if value is not None:
                params[name] = str(value.pk)
        if self.segment is not None:
            params["segment"] = str(self.segment.pk)
        return params

    def query(self) -> str:
        return urlencode(self.params())


def automatic_period(days: int) -> Period:
    """The period of a custom range when none is chosen: days up to two months, weeks up to
    half a year, months beyond (as the presets: 30 days by day, 90 by week, 12 months by
    month)."""
    if days <= 62:
        return "day"
    if days <= 184:
        return "week"
    return "month"


class ReportForm(forms.Form):
    range = forms.ChoiceField(label="Period", choices=list(RANGES.items()), required=False)
    since = forms.DateField(label="From", required=False, widget=_date_input())
    until = forms.DateField(label="To", required=False, widget=_date_input())
    period = forms.ChoiceField(
        label="By", choices=[("", "Automatic"), *PERIOD_LABELS.items()], required=False
    )
    source = SourceChoiceField(
        label="Source",
        queryset=Source.objects.order_by("name"),
        required=False,
        empty_label="All sources",
    )
    channel = ChannelChoiceField(
        label="Channel",
        queryset=Channel.objects.select_related("source").order_by("name", "source__name", "id"),
        required=False,
        empty_label="All channels",
    )
    segment = forms.ModelChoiceField(
        label="Segment", queryset=Segment.objects.all(), required=False, empty_label="Everyone"
    )

    def __init__(self, *args: Any, today: date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today or timezone.now().astimezone(UTC).date()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen = data.get("range") or DEFAULT_RANGE
        data["range"] = chosen
        since, until = data.get("since"), data.get("until")
        for name, day in (("since", since), ("until", until)):
            if day is not None and not FIRST_DAY <= day <= LAST_DAY:
                self.add_error(name, f"Choose a day between {FIRST_DAY:%Y} and {LAST_DAY:%Y}.")
                return data
        if chosen == "custom":
            if since is None or until is None:
                for name, day in (("since", since), ("until", until)):
                    if day is None and name not in self.errors:
                        self.add_error(name, "Custom dates need a first and a last day.")
                return data
            if since > until:
                self.add_error("until", "The last day must be on or after the first day.")
                return data
            if (until - since).days >= MAX_CUSTOM_DAYS:
                self.add_error("until", "A custom period spans at most 10 years.")
                return data
        channel, source = data.get("channel"), data.get("source")
        if channel is not None and source is not None and channel.source_id != source.pk:
            self.add_error("channel", f"#{channel.name} is not a channel of {source.name}.")
        period = data.get("period")
        if period:
            picks = self._picks(data, period)
            count = len(picks.buckets())
            if count > MAX_PERIODS:
                self.add_error(
                    "period",
                    f"By {period}, this period has {count} parts; choose a longer one "
                    f"(at most {MAX_PERIODS} parts).",
                )
        return data

    def _picks(self, data: dict[str, Any], period: Period | None) -> Picks:
        chosen = data["range"]
        if chosen == "custom":
            since, until = data["since"], data["until"] + timedelta(days=1)
            period = period or automatic_period((until - since).days)
        else:
            period = period or DEFAULT_PERIOD[chosen]
            since, until = date_range(chosen, self.today, period)
        return Picks(
            since=since,
            until=until,
            period=period,
            range=chosen,
            source=data.get("source"),
            channel=data.get("channel"),
            segment=data.get("segment"),
        )

    def picks(self) -> Picks:
        """The picks of a valid form."""
        if not self.is_valid():
            raise ValueError("the report's pickers are not valid")
        return self._picks(self.cleaned_data, self.cleaned_data.get("period") or None)
