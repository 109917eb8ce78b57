from django.db import migrations


def clear_bots_posts(apps, schema_editor):
    """The rollup no longer has a bot's post await a reply: take the ones it had out."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "UPDATE inbox_conversationstate SET awaiting_reply = %s"
            " WHERE awaiting_reply = %s AND ("
            "   opened_by_id IN (SELECT id FROM community_member WHERE is_bot = %s)"
            "   OR first_message_id IN (SELECT i.id FROM community_interaction i"
            "     JOIN community_identity d ON d.id = i.identity_id WHERE d.is_bot = %s))",
            [False, True, True, True],
        )


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0003_response_seconds"),
    ]

    operations = [
        migrations.RunPython(clear_bots_posts, migrations.RunPython.noop),
    ]
