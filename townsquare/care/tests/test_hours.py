"""Waiting time in wall-clock hours and in business hours."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from townsquare.care.hours import waited_hours
from townsquare.care.models import CareSettings


def business(**kw: Any) -> CareSettings:
    return CareSettings(business_hours_only=True, **kw)


def test_wall_clock_hours() -> None:
    start = datetime(2026, 6, 5, 18, tzinfo=UTC)  # a Friday
    assert waited_hours(start, datetime(2026, 6, 8, 10, tzinfo=UTC), CareSettings()) == 64


def test_business_hours_skip_nights_and_weekends(settings: Any) -> None:
    settings.COMMUNITY_TIME_ZONE = "UTC"
    friday_evening = datetime(2026, 6, 5, 16, tzinfo=UTC)
    monday_morning = datetime(2026, 6, 8, 10, tzinfo=UTC)
    # Friday 16–17 and Monday 9–10.
    assert waited_hours(friday_evening, monday_morning, business()) == pytest.approx(2)


def test_business_hours_in_the_community_time_zone(settings: Any) -> None:
    settings.COMMUNITY_TIME_ZONE = "Europe/Paris"
    # 07:00 UTC is 09:00 in Paris in June: the day has just begun.
    start = datetime(2026, 6, 9, 7, tzinfo=UTC)
    assert waited_hours(start, datetime(2026, 6, 9, 10, tzinfo=UTC), business()) == pytest.approx(3)
    # Asked at 18:00 Paris time, after closing: nothing counts until the next morning.
    late = datetime(2026, 6, 9, 16, tzinfo=UTC)
    assert waited_hours(late, datetime(2026, 6, 10, 7, tzinfo=UTC), business()) == 0


def test_custom_days_and_hours(settings: Any) -> None:
    settings.COMMUNITY_TIME_ZONE = "UTC"
    care = business(business_day_start=0, business_day_end=24, business_weekdays="5,6")
    saturday = datetime(2026, 6, 6, 0, tzinfo=UTC)
    assert waited_hours(saturday, datetime(2026, 6, 9, tzinfo=UTC), care) == 48
