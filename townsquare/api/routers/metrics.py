"""The community metrics of docs/metrics.md: the same figures as `townsquare metrics NAME --json`,
computed by the same code (metrics/results.py)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.errors import ValidationError
from pydantic import Field

from townsquare.api.params import NO_NUL
from townsquare.api.schemas import ErrorOut, MetricInfo, MetricList, MetricResult
from townsquare.listening.pulse import Period, bucket_starts
from townsquare.metrics import definitions as m
from townsquare.metrics import results

if TYPE_CHECKING:
    MetricName = str
else:
    MetricName = Literal[m.METRICS]

router = Router(tags=["metrics"])
# Days the API takes: wide enough for any community's history, and far from the calendar's
# ends, where a day after `until` or months before it do not exist.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)
Day = Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY)]
# sentiment-trend lists every bucket of every channel: this many buckets at most.
MAX_BUCKETS = 1000


class MetricParams(Schema):
    source: str | None = Field(None, max_length=200, pattern=NO_NUL, description="A source's name.")
    channel: str | None = Field(
        None, max_length=255, pattern=NO_NUL, description="A channel's name (`#` optional)."
    )
    since: Day | None = Field(None, description="First day (UTC), included.")
    until: Day | None = Field(
        None,
        description="Last day (UTC), included. For active-members the day measured (default: "
        "today); for drifting-away and inactive-members the day 'now' ends.",
    )
    period: Period | None = Field(None, description="ttfr and sentiment-trend; default month.")
    hours: int | None = Field(
        None, ge=0, le=100_000, description=f"unanswered; default {m.UNANSWERED_HOURS}."
    )
    days: int | None = Field(
        None, ge=0, le=36_500, description=f"inactive-members; default {m.INACTIVE_DAYS}."
    )


def _refuse(name: str, message: str) -> ValidationError:
    return ValidationError([{"type": "value_error", "loc": ["query", name], "msg": message}])


def _options(name: str) -> list[str]:
    return [
        option
        for option, takers in (
            ("period", results.TAKES_PERIOD),
            ("hours", results.TAKES_HOURS),
            ("days", results.TAKES_DAYS),
        )
        if name in takers
    ]


def _check(name: str, p: MetricParams) -> None:
    for option in ("period", "hours", "days"):
        if getattr(p, option) is not None and option not in _options(name):
            raise _refuse(option, f"{name} takes no {option}.")
    if p.since is not None and p.until is not None and p.since > p.until:
        raise _refuse("since", "Expected a day on or before until.")
    if name == "sentiment-trend":
        period = p.period or "month"
        if p.since is None or p.until is None:
            if period == "day":
                raise _refuse("period", "Daily buckets need since and until.")
        elif len(bucket_starts(p.since, p.until + timedelta(days=1), period)) > MAX_BUCKETS:
            raise _refuse("until", f"At most {MAX_BUCKETS} {period}s from since to until.")


@router.get("/metrics", response=MetricList, summary="List the metrics")
def list_metrics(request: HttpRequest) -> MetricList:
    """Their names, what each gives in one line, and the options each takes beyond source,
    channel, since and until. docs/metrics.md has the exact definitions."""
    return MetricList(
        items=[
            MetricInfo(name=name, description=results.SUMMARIES[name], options=_options(name))
            for name in m.METRICS
        ]
    )


@router.get(
    "/metrics/{name}",
    response={200: MetricResult, 422: ErrorOut},
    summary="Compute a metric",
)
def get_metric(request: HttpRequest, name: MetricName, params: Query[MetricParams]) -> Any:
    """The JSON `townsquare metrics NAME --json` prints for the same options. Days are UTC and
    both `since` and `until` are included. An unknown source or channel, `since` after
    `until`, or an option the metric does not take is a 422 naming the parameter."""
    _check(name, params)
    scope = results.scope_for(
        source=params.source, channel=params.channel, since=params.since, last=params.until
    )
    try:
        return results.compute(
            name,
            scope,
            period=params.period or "month",
            hours=m.UNANSWERED_HOURS if params.hours is None else params.hours,
            days=m.INACTIVE_DAYS if params.days is None else params.days,
            last=params.until,
        )
    except m.ScopeError as e:
        # Its message names the command-line option: "--source: no source is named 'x'".
        option, _, message = str(e).partition(": ")
        raise _refuse(option.removeprefix("--"), message or str(e)) from None
