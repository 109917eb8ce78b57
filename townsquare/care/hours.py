"""How long someone has waited: wall-clock hours, or business hours when the community
works to business hours (CareSettings)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings

if TYPE_CHECKING:
    from townsquare.care.models import CareSettings


def waited_hours(start: datetime, now: datetime, care: CareSettings) -> float:
    """Hours from start to now; with business hours on, only the hours between the day's start
    and end on business weekdays, in the community's time zone."""
    if now <= start:
        return 0.0
    if not care.business_hours_only:
        return (now - start).total_seconds() / 3600
    zone = ZoneInfo(settings.COMMUNITY_TIME_ZONE)
    start, now = start.astimezone(zone), now.astimezone(zone)
    total = timedelta()
    day = start.date()
    while day <= now.date():
        if day.weekday() in care.weekdays:
            midnight = datetime.combine(day, time(), zone)
            day_open = midnight + timedelta(hours=care.business_day_start)
            day_close = midnight + timedelta(hours=care.business_day_end)
            overlap = min(day_close, now) - max(day_open, start)
            if overlap > timedelta():
                total += overlap
        day += timedelta(days=1)
    return total.total_seconds() / 3600
