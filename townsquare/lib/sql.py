"""SQL fragments that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection as default_connection

# Ids per SELECT ... IN (...): under every backend's limit on a statement's parameters.
LOOKUP_CHUNK = 900


def execute_sqlite(cursor: Any, sql: str, params: Sequence[Any]) -> None:
    """Run a statement written with SQLite's own `?` placeholders on a Django cursor's
    connection, as it is. Django rewrites every `%s` of a statement to `?` with a regular
    expression over the whole text on each call: 1.4 ms for a 500-row INSERT of 22 columns,
    more than a third of the statement's own time. For the hot bulk writes only (Django's
    query log and execute wrappers do not see it); anything else goes through
    `cursor.execute` and its `%s`."""
    cursor.cursor.connection.execute(sql, params)


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
