"""Interactions of kinds without words (reactions, joins, votes...) are no longer enriched:
their rows, which held no label, go (listening/pipeline.py). A row a person corrected stays."""

from django.db import migrations

# The kinds as of this migration (community.models.InteractionKind minus pipeline.TEXT_KINDS).
KINDS_WITHOUT_WORDS = ("reaction", "join", "leave", "accepted", "vote", "badge", "event")


def delete_rows(apps, schema_editor):
    uncorrected = (
        "corrected = '[]'::jsonb"
        if schema_editor.connection.vendor == "postgresql"
        else "corrected = '[]'"
    )
    marks = ", ".join(["%s"] * len(KINDS_WITHOUT_WORDS))
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM listening_enrichment WHERE {uncorrected} AND NOT analyzed"
            " AND interaction_id IN"
            f" (SELECT id FROM community_interaction WHERE kind IN ({marks}))",
            list(KINDS_WITHOUT_WORDS),
        )


class Migration(migrations.Migration):
    dependencies = [
        ("community", "0008_interaction_accepted"),
        ("listening", "0003_enrichment_member"),
    ]

    operations = [migrations.RunPython(delete_rows, migrations.RunPython.noop)]
