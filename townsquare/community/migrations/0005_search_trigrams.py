"""Trigram indexes for the member list's search, on PostgreSQL only.

The search is a case-insensitive substring of a member's name or an identity's handle, name or
email: Django asks PostgreSQL for UPPER(column::text) LIKE UPPER('%words%'), which no B-tree
can answer; a scan upper-cases three columns of every identity, twice a page (the count and the
page). pg_trgm's GIN indexes on those very expressions answer it instead. SQLite has no such
index: there, the identity_search index keeps the scan to the index (docs/benchmarks.md,
"Member pages").

pg_trgm is a trusted extension: the database's owner may create it. Where it cannot be created,
the indexes are left out and the search reads the tables as before.
"""

from django.db import DatabaseError, migrations, transaction

INDEXES = {
    "community_identity_search_trgm": (
        "community_identity",
        ("handle", "display_name", "email"),
    ),
    "community_member_name_trgm": ("community_member", ("display_name",)),
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError:
        return
    for name, (table, columns) in INDEXES.items():
        expressions = ", ".join(f"(UPPER({column}::text)) gin_trgm_ops" for column in columns)
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({expressions})"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("community", "0004_identity_search"),
    ]

    operations = [migrations.RunPython(create, drop)]
