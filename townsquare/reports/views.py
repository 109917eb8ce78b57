"""The Reports page: the pickers and a shell per chart first, then each chart's block fetched
on its own (htmx), so a slow chart holds up no other; and each chart's table as CSV and
Parquet. Every figure comes from reports/data.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from townsquare.community.models import Interaction
from townsquare.front.access import can_read, requires
from townsquare.metrics.definitions import add_months
from townsquare.reports.data import CHARTS, Chart, Table
from townsquare.reports.exports import to_csv, to_parquet
from townsquare.reports.forms import ReportForm

# Heatmap cells are shaded in this many steps (CSS classes heat-0 .. heat-7).
HEAT_STEPS = 8
NO_VALUE = "\u2013"


def _chart(slug: str) -> Chart:
    chart = CHARTS.get(slug)
    if chart is None:
        raise Http404("No such chart.")
    return chart


def _start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def display(value: object) -> str:
    """A cell as the table view shows it: the CSV's text, and a dash for no value."""
    if value is None:
        return NO_VALUE
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _heat(value: object, top: float) -> int:
    """The shade of a heatmap cell: 0 for nothing, then 1..7 by its share of the top value."""
    if not isinstance(value, int | float) or value <= 0 or top <= 0:
        return 0
    return min(HEAT_STEPS - 1, 1 + int(value / top * (HEAT_STEPS - 1)))


def _cells(chart: Chart, table: Table) -> list[list[dict[str, Any]]]:
    shaded = chart.draw == "heatmap"
    # Retention shares are shaded against 100 %, counts against the busiest cell.
    percent = all(c.kind == "percent" for c in table.columns[chart.shade_from :])
    values = [
        v for row in table.rows for v in row[chart.shade_from :] if isinstance(v, int | float)
    ]
    top = 100.0 if percent else float(max(values, default=0))
    return [
        [
            {
                "text": display(value),
                "heat": _heat(value, top) if shaded and n >= chart.shade_from else None,
            }
            for n, value in enumerate(row)
        ]
        for row in table.rows
    ]


def _drawing(chart: Chart, table: Table) -> dict[str, Any]:
    """What reports.js draws: the first column labels the points, each series is a column."""
    index = {c.key: n for n, c in enumerate(table.columns)}
    return {
        "type": chart.draw,
        "labels": [display(row[0]) for row in table.rows],
        "series": [
            {
                "label": table.columns[index[key]].label,
                "unit": table.columns[index[key]].kind,
                "values": [row[index[key]] for row in table.rows],
            }
            for key in chart.series
        ],
    }


@requires(can_read)
@require_safe
def reports(request: HttpRequest) -> HttpResponse:
    form = ReportForm(request.GET)
    context: dict[str, Any] = {"section": "reports", "form": form}
    if not form.is_valid():
        return render(request, "reports/reports.html", context, status=400)
    picks = form.picks()
    latest = None
    in_period = Interaction.objects.filter(
        created_at__gte=_start(picks.since), created_at__lt=_start(picks.until)
    )
    if not in_period.exists():
        last = Interaction.newest_day()
        if last is not None:
            latest = {"day": last, "since": add_months(last, -12) + timedelta(days=1)}
    context |= {"picks": picks, "charts": list(CHARTS.values()), "latest": latest}
    return render(request, "reports/reports.html", context)


@requires(can_read)
@require_safe
def chart_block(request: HttpRequest, chart: str) -> HttpResponse:
    spec = _chart(chart)
    form = ReportForm(request.GET)
    if not form.is_valid():
        return render(request, "reports/_invalid.html", {"form": form}, status=400)
    picks = form.picks()
    table = spec.table(picks)
    context = {
        "chart": spec,
        "picks": picks,
        "table": table,
        "rows": list(
            zip(_cells(spec, table), table.links or [None] * len(table.rows), strict=True)
        ),
        "drawing": _drawing(spec, table),
        "data_id": f"report-data-{spec.slug}",
    }
    return render(request, "reports/_chart.html", context)


def _download(request: HttpRequest, chart: str, extension: str) -> HttpResponse:
    spec = _chart(chart)
    form = ReportForm(request.GET)
    if not form.is_valid():
        problems = "; ".join(
            f"{name}: {' '.join(str(e) for e in errors)}" for name, errors in form.errors.items()
        )
        return HttpResponse(
            f"The report's choices are not valid: {problems}\n",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    picks = form.picks()
    table = spec.table(picks)
    if extension == "csv":
        response = HttpResponse(to_csv(table), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(to_parquet(table), content_type="application/vnd.apache.parquet")
    name = f"townsquare-{spec.slug}-{picks.since:%Y-%m-%d}-to-{picks.last_day:%Y-%m-%d}"
    response["Content-Disposition"] = f'attachment; filename="{name}.{extension}"'
    return response


@requires(can_read)
@require_safe
def chart_csv(request: HttpRequest, chart: str) -> HttpResponse:
    return _download(request, chart, "csv")


@requires(can_read)
@require_safe
def chart_parquet(request: HttpRequest, chart: str) -> HttpResponse:
    return _download(request, chart, "parquet")
