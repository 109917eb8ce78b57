"""Spike alerts: a day when a channel's volume, negative share or toxic share rose above its
trailing norm (docs/metrics.md, "Spikes and alerts")."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.errors import HttpError, ValidationError
from ninja.params import P, PathEx
from pydantic import Field

from townsquare.api.convert import alert_out
from townsquare.api.params import MAX_ID, AwareTime, Id, Pagination, paginate
from townsquare.api.schemas import AlertOut, AlertPage, ErrorOut
from townsquare.listening.models import Alert, AlertMetric

router = Router(tags=["alerts"])
AlertId = PathEx[int, P(ge=1, le=MAX_ID)]


class AlertFilters(Schema):
    channel: Id | None = Field(None, description="A channel's id.")
    metric: AlertMetric | None = None
    since: AwareTime | None = Field(None, description="Windows starting at or after this time.")
    until: AwareTime | None = Field(None, description="Windows starting before this time.")
    acknowledged: bool | None = Field(None, description="Whether someone acknowledged it.")


def filter_alerts(f: AlertFilters) -> QuerySet[Alert]:
    qs = Alert.objects.all()
    if f.channel is not None:
        qs = qs.filter(channel_id=f.channel)
    if f.metric is not None:
        qs = qs.filter(metric=f.metric)
    if f.since is not None:
        qs = qs.filter(window_start__gte=f.since)
    if f.until is not None:
        qs = qs.filter(window_start__lt=f.until)
    if f.acknowledged is not None:
        qs = qs.filter(acknowledged_at__isnull=not f.acknowledged)
    return qs.order_by("-window_start", "-id")


@router.get("/alerts", response={200: AlertPage, 422: ErrorOut}, summary="List alerts")
def list_alerts(
    request: HttpRequest, filters: Query[AlertFilters], page: Query[Pagination]
) -> AlertPage:
    """Newest window first, as on the alerts page."""
    if filters.since is not None and filters.until is not None and filters.since >= filters.until:
        raise ValidationError(
            [{"type": "value_error", "loc": ["query", "since"], "msg": "Expected before until."}]
        )
    alerts = filter_alerts(filters)
    rows = alerts.select_related("channel", "acknowledged_by")
    return AlertPage(**paginate(page, alerts, alert_out, rows=rows))


@router.get("/alerts/{alert_id}", response={200: AlertOut, 404: ErrorOut}, summary="Get an alert")
def get_alert(request: HttpRequest, alert_id: AlertId) -> AlertOut:
    """With the value, the trailing norm it was compared with (mean, σ) and the k used."""
    alert = Alert.objects.select_related("channel", "acknowledged_by").filter(pk=alert_id).first()
    if alert is None:
        raise HttpError(404, f"No alert #{alert_id}.")
    return alert_out(alert)
