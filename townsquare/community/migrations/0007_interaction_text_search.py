"""An index for "which messages contain these words" (community/text_search.py).

SQLite: an FTS5 table with the trigram tokenizer, external content (the interactions' own text,
not a copy), `detail=none` (no positions: FTS5 checks each match against the text anyway).
New text waits in a queue table until `text_search.index_pending` adds it in bulk (the
importer does after each batch): FTS5 writes its pending terms out at every statement of a
trigger, which made a per-row insert four times the cost of a bulk one and nearly doubled an
import's time. Edits and deletes go straight to the index through triggers (they are rare).
PostgreSQL: a pg_trgm GIN index on UPPER(text), where pg_trgm can be created
(0005_search_trigrams). Measured on 2,000,000 interactions in docs/benchmarks.md.
"""

from django.db import DatabaseError, migrations, transaction

FTS = "community_interaction_text"
QUEUE = "community_interaction_text_queue"
PG_INDEX = "community_interaction_text_trgm"
QUEUED = f"EXISTS (SELECT 1 FROM {QUEUE} WHERE id = old.id)"
SQLITE_CREATE = [
    f"CREATE VIRTUAL TABLE {FTS} USING fts5(text, content='community_interaction',"
    " content_rowid='id', tokenize='trigram', detail='none', columnsize=0)",
    f"CREATE TABLE {QUEUE} (id INTEGER PRIMARY KEY)",
    # Reactions, joins and votes have no text: they stay out of the index (and so out of its
    # deletes: FTS5 must be told exactly what it was given).
    f"CREATE TRIGGER {FTS}_insert AFTER INSERT ON community_interaction"
    f" WHEN new.text <> '' BEGIN INSERT OR IGNORE INTO {QUEUE}(id) VALUES (new.id); END",
    f"CREATE TRIGGER {FTS}_delete AFTER DELETE ON community_interaction"
    f" WHEN old.text <> '' BEGIN"
    f" INSERT INTO {FTS}({FTS}, rowid, text) SELECT 'delete', old.id, old.text"
    f" WHERE NOT {QUEUED};"
    f" DELETE FROM {QUEUE} WHERE id = old.id; END",
    # The old text leaves the index (unless it was still queued), the new one queues.
    f"CREATE TRIGGER {FTS}_update AFTER UPDATE OF text ON community_interaction"
    f" WHEN old.text IS NOT new.text BEGIN"
    f" INSERT INTO {FTS}({FTS}, rowid, text) SELECT 'delete', old.id, old.text"
    f" WHERE old.text <> '' AND NOT {QUEUED};"
    f" INSERT OR IGNORE INTO {QUEUE}(id) SELECT new.id WHERE new.text <> ''; END",
    # Index the interactions already there.
    f"INSERT INTO {FTS}(rowid, text) SELECT id, text FROM community_interaction WHERE text <> ''",
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {FTS}_insert",
    f"DROP TRIGGER IF EXISTS {FTS}_delete",
    f"DROP TRIGGER IF EXISTS {FTS}_update",
    f"DROP TABLE IF EXISTS {QUEUE}",
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
