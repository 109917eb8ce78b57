"""An index for "which messages contain these words" (community/text_search.py).

SQLite: an FTS5 table with the trigram tokenizer, external content (the interactions' own text,
not a copy), with positions (`detail=full`): a phrase of trigrams is a substring, answered from
the index alone, where `LIKE` (all `detail=none` allows) re-reads every candidate's text (5 ms
against 50 ms for a common word at 2,000,000 messages; the index is 2.5 times larger). It
covers the interactions up to a mark (`community_interaction_text_mark`); `text_search.
index_pending` adds those after it in one statement (the importer calls it after each batch).
No trigger on insert: any trigger makes SQLite journal every statement, and a per-row FTS5
insert writes its terms out each time — either doubled an import's time. Edits and deletes of
indexed interactions reach the index through triggers (they are rare). Ids only grow
(AUTOINCREMENT), so "after the mark" is exactly "not indexed yet".
PostgreSQL: a pg_trgm GIN index on UPPER(text), where pg_trgm can be created
(0005_search_trigrams). Measured on 2,000,000 interactions in docs/benchmarks.md.
"""

from django.db import DatabaseError, migrations, transaction

FTS = "community_interaction_text"
MARK = "community_interaction_text_mark"
PG_INDEX = "community_interaction_text_trgm"
INDEXED = f"old.id <= (SELECT indexed_through FROM {MARK})"
SQLITE_CREATE = [
    f"CREATE VIRTUAL TABLE {FTS} USING fts5(text, content='community_interaction',"
    " content_rowid='id', tokenize='trigram', detail='full', columnsize=0)",
    f"CREATE TABLE {MARK} (id INTEGER PRIMARY KEY CHECK (id = 1),"
    " indexed_through INTEGER NOT NULL)",
    # Reactions, joins and votes have no text: they stay out of the index (and so out of its
    # deletes: FTS5 must be told exactly what it was given).
    f"CREATE TRIGGER {FTS}_delete AFTER DELETE ON community_interaction"
    f" WHEN old.text <> '' AND {INDEXED} BEGIN"
    f" INSERT INTO {FTS}({FTS}, rowid, text) VALUES ('delete', old.id, old.text); END",
    # One trigger, so the old text leaves before the new one comes.
    f"CREATE TRIGGER {FTS}_update AFTER UPDATE OF text ON community_interaction"
    f" WHEN old.text IS NOT new.text AND {INDEXED} BEGIN"
    f" INSERT INTO {FTS}({FTS}, rowid, text) SELECT 'delete', old.id, old.text"
    f" WHERE old.text <> '';"
    f" INSERT INTO {FTS}(rowid, text) SELECT new.id, new.text WHERE new.text <> ''; END",
    # Index the interactions already there.
    f"INSERT INTO {FTS}(rowid, text) SELECT id, text FROM community_interaction WHERE text <> ''",
    f"INSERT INTO {MARK} (id, indexed_through)"
    " SELECT 1, COALESCE(MAX(id), 0) FROM community_interaction",
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {FTS}_delete",
    f"DROP TRIGGER IF EXISTS {FTS}_update",
    f"DROP TABLE IF EXISTS {MARK}",
    f"DROP TABLE IF EXISTS {FTS}",
]


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for statement in SQLITE_CREATE:
            schema_editor.execute(statement)
    elif vendor == "postgresql":
        try:
            with transaction.atomic(using=schema_editor.connection.alias):
                schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DatabaseError:
            return
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON community_interaction"
            " USING gin ((UPPER(text::text)) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)
    elif vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("community", "0006_interaction_interaction_imported"),
    ]

    operations = [migrations.RunPython(create, drop)]
