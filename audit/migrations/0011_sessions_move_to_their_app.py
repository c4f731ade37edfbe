"""MqttSession and LiveConnections now belong to the sessions app (state only)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('mqtt_sessions', '0001_initial'),
        ('audit', '0010_alert_evidence_seq'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
            migrations.RemoveField(
                model_name='mqttsession',
                name='org',
            ),
            migrations.RemoveField(
                model_name='mqttsession',
                name='user',
            ),
            migrations.DeleteModel(
                name='LiveConnections',
            ),
            migrations.DeleteModel(
                name='MqttSession',
            ),
    ],
            database_operations=[],
        ),
    ]
