"""SQL fragments that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from django.db import connection as default_connection

# Ids per SELECT ... IN (...): under every backend's limit on a statement's parameters.
LOOKUP_CHUNK = 900


def seconds_between(later: str, earlier: str, connection: Any = None) -> str:
    """SQL for `later - earlier` in seconds, as a float equal to Python's
    `timedelta.total_seconds()` of the same two datetimes (NULL when either is NULL)."""
    vendor = (connection or default_connection).vendor
    if vendor == "postgresql":
        # EXTRACT gives an exact numeric; its rounding to a double is Python's too.
        return f"CAST(EXTRACT(EPOCH FROM ({later} - {earlier})) AS DOUBLE PRECISION)"
    # SQLite keeps 'YYYY-MM-DD HH:MM:SS[.ffffff]': whole seconds from strftime and the
    # microseconds apart, both as integers, then one division, as total_seconds() does
    # (julianday's doubles would lose the microseconds). strftime gets the text without its
    # fraction: it rounds to milliseconds, and .9995 and up would become the next second.
    return (
        f"(((strftime('%%s', substr({later}, 1, 19)) - strftime('%%s', substr({earlier}, 1, 19)))"
        " * 1000000"
        f" + (CAST(substr({later}, 21) AS INTEGER) - CAST(substr({earlier}, 21) AS INTEGER)))"
        " / 1000000.0)"
    )
