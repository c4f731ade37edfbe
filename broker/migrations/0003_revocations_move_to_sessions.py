"""The revocation feed now belongs to the sessions app (state only)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('mqtt_sessions', '0001_initial'),
        ('broker', '0002_revocation_client_id'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
            migrations.DeleteModel(
                name='Revocation',
            ),
    ],
            database_operations=[],
        ),
    ]
