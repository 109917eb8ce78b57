from django.db import migrations


def recount(apps, schema_editor):
    # The keyword rollups counted messages a moderator had hidden; topics now leave them out.
    from townsquare.metrics.rollups import rebuild_keywords

    rebuild_keywords()


class Migration(migrations.Migration):

    dependencies = [
        ('metrics', '0004_first_seen'),
        ('moderation', '0002_escalation_to_admins'),
    ]

    operations = [migrations.RunPython(recount, migrations.RunPython.noop, elidable=True)]
