"""Which interactions contain a piece of text: a case-insensitive substring, answered by an
index on both engines (docs/architecture.md, "Text search").

- SQLite: an FTS5 table with the trigram tokenizer over the interactions' text
  (`community_interaction_text`, external content: it keeps no second copy of the text, only
  its trigrams), kept by triggers on every insert, update and delete. FTS5 answers `LIKE
  '%words%'` from its index for three characters or more.
- PostgreSQL: a pg_trgm GIN index on UPPER(text), the very expression of Django's `icontains`.

Both give exactly what `icontains` gives; shorter text, or text with LIKE's own wildcards,
is looked for without the index.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

FTS_TABLE = "community_interaction_text"
# FTS5's trigram tokenizer needs three characters to use its index.
MIN_INDEXED_LENGTH = 3
LIKE_WILDCARDS = frozenset("%_\\")


def _spellings(text: str) -> set[str]:
    # SQLite's LIKE folds the case of ASCII letters only (FTS5 checks its matches with it): for
    # other letters, also look for the usual spellings, so "élan" finds "Élan". PostgreSQL's
    # UPPER() folds every letter, and the extra spellings change nothing there.
    if text.isascii():
        return {text}
    return {text, text.lower(), text.upper(), text.capitalize(), text.title()}


def containing(text: str) -> Q:
    """A condition on Interaction: its text contains `text`, whatever the case."""
    spellings = _spellings(text)
    if (
        connection.vendor == "sqlite"
        and len(text) >= MIN_INDEXED_LENGTH
        and not LIKE_WILDCARDS & set(text)
    ):
        sql = " UNION ALL ".join(
            f"SELECT rowid FROM {FTS_TABLE} WHERE text LIKE %s"  # noqa: S608 - a constant name
            for _ in spellings
        )
        patterns = [f"%{spelling}%" for spelling in sorted(spellings)]
        return Q(id__in=RawSQL(sql, patterns))  # noqa: S611 - the text is a parameter
    condition = Q(text__icontains=text)
    for spelling in spellings - {text}:
        condition |= Q(text__contains=spelling)
    return condition
