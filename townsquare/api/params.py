"""Parameter types shared by the routers: bounded ids, text without NUL, aware times, pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from django.contrib.auth.models import User
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from ninja import Schema
from ninja.errors import HttpError
from pydantic import AfterValidator, Field

from townsquare.api.access import can_write_api
from townsquare.lib.paging import ReadOnce

# The largest id a database integer column holds: a larger one is a 404, never a crash.
MAX_ID = 2**63 - 1
MAX_LIMIT = 200
DEFAULT_LIMIT = 50
MAX_OFFSET = 10**9
# PostgreSQL refuses NUL in text: such a string is a 422 rather than a 500.
NO_NUL = r"^[^\x00]*$"


def _utc(value: datetime) -> datetime:
    """A time without a zone is read as UTC; one that cannot be told in UTC is refused."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("This time is out of range.") from None


AwareTime = Annotated[datetime, AfterValidator(_utc)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


M = TypeVar("M", bound=Model)


class Pagination(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="At most 200.")
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


def paginate(
    page: Pagination,
    counted: QuerySet[M] | ReadOnce[M],
    convert: Callable[[M], Any],
    *,
    rows: QuerySet[M] | None = None,
) -> dict[str, Any]:
    """The fields of every list response: the total, the window asked for, and its items
    (read from `rows` when the listing needs more joins than the count)."""
    window = (counted if rows is None else rows)[page.offset : page.offset + page.limit]
    return {
        "count": counted.count(),
        "limit": page.limit,
        "offset": page.offset,
        "items": [convert(row) for row in window],
    }


def acting_user(request: HttpRequest) -> User:
    """The authenticated user (the auth classes set it)."""
    user: Any = getattr(request, "auth", None)
    if not isinstance(user, User):
        raise HttpError(401, "Authentication required.")
    return user


def writer(request: HttpRequest) -> User:
    """The authenticated user, when they may write; a 403 otherwise."""
    user = acting_user(request)
    if not can_write_api(user):
        raise HttpError(403, "This account may read but not change data.")
    return user
