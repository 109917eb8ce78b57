"""The template tags' formatting, against Django's own formatter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.utils.dateformat import format as format_date

from townsquare.front.templatetags.townsquare import NOTHING, when


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 1, 5, 3, 4, 5, tzinfo=UTC),
        datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC),  # a year before 1000 keeps its zero
        datetime(2026, 6, 1, 0, 0, 0, tzinfo=timezone(timedelta(hours=2))),
    ],
)
def test_when_writes_the_time_as_djangos_formatter_does(value: datetime) -> None:
    html = when(value, "j M Y")
    assert html == (
        f'<time datetime="{value.isoformat()}" title="{format_date(value, "Y-m-d H:i:s")} UTC">'
        f"{format_date(value, 'j M Y')}</time>"
    )
    assert when(None) == NOTHING
