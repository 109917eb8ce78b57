"""Which interactions contain a piece of text: a case-insensitive substring, answered by an
index on both engines (docs/architecture.md, "Text search").

- SQLite: an FTS5 table with the trigram tokenizer over the interactions' text
  (`community_interaction_text`, external content: it keeps no second copy of the text, only
  its trigrams and their positions). A phrase query of three characters or more is a
  case-insensitive substring (the tokenizer folds case, accents kept), answered from the index.
  The index covers the interactions up to a mark (`community_interaction_text_mark`);
  `index_pending` adds the newer ones in one statement (the importer calls it after each
  batch), and until then the search reads those few rows directly, so its answers never lag.
  Triggers keep the index right on every edit and delete of an indexed interaction.
- PostgreSQL: a pg_trgm GIN index on UPPER(text), the very expression of Django's `icontains`.

Both give exactly what `icontains` gives; shorter text, or text with LIKE's own wildcards,
is looked for without the index.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL

FTS_TABLE = "community_interaction_text"
MARK_TABLE = "community_interaction_text_mark"
# FTS5's trigram tokenizer needs three characters to use its index.
MIN_INDEXED_LENGTH = 3
LIKE_WILDCARDS = frozenset("%_\\")
INDEXED_MATCH = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"  # noqa: S608
NEWER_MATCH = (
    "SELECT id FROM community_interaction"  # noqa: S608
    f" WHERE id > (SELECT indexed_through FROM {MARK_TABLE}) AND text LIKE %s"
)


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
        phrase = '"' + text.replace('"', '""') + '"'
        patterns = [f"%{spelling}%" for spelling in sorted(spellings)]
        sql = " UNION ALL ".join([INDEXED_MATCH] + [NEWER_MATCH] * len(patterns))
        return Q(id__in=RawSQL(sql, [phrase, *patterns]))  # noqa: S611 - parameters
    condition = Q(text__icontains=text)
    for spelling in spellings - {text}:
        condition |= Q(text__contains=spelling)
    return condition


def index_pending() -> int:
    """Add the interactions after the mark to SQLite's index in one statement, and move the
    mark; the number of interactions it covered. Nothing to do on PostgreSQL, whose GIN index
    keeps its own pending list."""
    if connection.vendor != "sqlite":
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT indexed_through FROM {MARK_TABLE}")  # noqa: S608
        (mark,) = cursor.fetchone()
        cursor.execute("SELECT MAX(id) FROM community_interaction")
        (last,) = cursor.fetchone()
        if last is None or last <= mark:
            return 0
        cursor.execute(
            f"INSERT INTO {FTS_TABLE}(rowid, text) SELECT id, text FROM community_interaction"  # noqa: S608
            " WHERE id > %s AND id <= %s AND text <> ''",
            [mark, last],
        )
        cursor.execute(f"UPDATE {MARK_TABLE} SET indexed_through = %s", [last])  # noqa: S608
    return int(last) - int(mark)
