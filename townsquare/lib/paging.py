"""A listing read once: for a query too costly to run twice, as a count and then as a page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar, overload

from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


class ReadOnce(Sequence[M], Generic[M]):
    """The rows of `query` in its order, for a paginator: the ordered ids are read in one
    query (their number is the count), and a page's rows are read from `rows` by id.

    A paginator counts, then reads the page: two runs of the query. When most of its cost is
    in its conditions (the members who wrote a word, found through the text index), this
    runs them once. `rows` carries what a row needs to be shown (related rows, prefetches)
    and none of the conditions, which the ids already met."""

    def __init__(self, query: QuerySet[M], rows: QuerySet[M]) -> None:
        self._ids: list[Any] = list(query.values_list("pk", flat=True))
        self._rows = rows

    def count(self) -> int:  # type: ignore[override]  # a paginator's count, not list.count
        return len(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    @overload
    def __getitem__(self, index: int) -> M: ...

    @overload
    def __getitem__(self, index: slice) -> list[M]: ...

    def __getitem__(self, index: int | slice) -> M | list[M]:
        if isinstance(index, int):
            return self._rows.get(pk=self._ids[index])
        ids = self._ids[index]
        found = {row.pk: row for row in self._rows.filter(pk__in=ids)}
        # A row deleted since the ids were read is left out rather than failing the page.
        return [found[pk] for pk in ids if pk in found]
