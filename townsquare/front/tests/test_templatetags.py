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
@pytest.mark.parametrize(
    # The pages' formats (written directly), and others (Django's formatter).
    "fmt",
    ["j M Y, H:i", "j M Y", "j M", "H:i", "D j N Y", r"j \o\f F"],
)
def test_when_writes_the_time_as_djangos_formatter_does(value: datetime, fmt: str) -> None:
    html = when(value, fmt)
    assert html == (
        f'<time datetime="{value.isoformat()}" title="{format_date(value, "Y-m-d H:i:s")} UTC">'
        f"{format_date(value, fmt)}</time>"
    )
    assert when(None) == NOTHING


def test_when_names_months_in_the_active_language() -> None:
    from django.utils import translation

    value = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    with translation.override("de"):
        german = when(value, "j M Y")
        assert german.endswith(f">{format_date(value, 'j M Y')}</time>")
    assert when(value, "j M Y").endswith(">1 May 2026</time>")
