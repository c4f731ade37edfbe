"""MQTT sessions, live counts and the revocation feed join this app from audit and broker:
state only, the tables keep their names (audit_mqttsession, audit_liveconnections,
broker_revocation)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('audit', '0010_alert_evidence_seq'),
        ('broker', '0002_revocation_client_id'),
        ('orgs', '0003_alter_organization_name'),
        ('users', '0003_mqttuser_rules_generation'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
            migrations.CreateModel(
                name='LiveConnections',
                fields=[
                    ('org', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to='orgs.organization')),
                    ('live', models.PositiveIntegerField(default=0)),
                ],
                options={
                    'db_table': 'audit_liveconnections',
                },
            ),
            migrations.CreateModel(
                name='MqttSession',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('username', models.CharField(max_length=100)),
                    ('token_id', models.CharField(blank=True, max_length=32)),
                    ('client_id', models.CharField(max_length=256)),
                    ('node', models.CharField(blank=True, max_length=128)),
                    ('peer_ip', models.GenericIPAddressField(blank=True, null=True)),
                    ('peer_port', models.PositiveIntegerField(blank=True, null=True)),
                    ('transport', models.CharField(blank=True, choices=[('mqtt', 'MQTT (plain)'), ('mqtts', 'MQTT over TLS'), ('ws', 'WebSocket'), ('wss', 'WebSocket over TLS')], max_length=8)),
                    ('proto_ver', models.CharField(blank=True, max_length=8)),
                    ('connected_at_ms', models.BigIntegerField()),
                    ('connected_at', models.DateTimeField(db_index=True)),
                    ('disconnected_at', models.DateTimeField(blank=True, null=True)),
                    ('disconnect_reason', models.CharField(blank=True, max_length=64)),
                    ('org', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='orgs.organization')),
                    ('user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='sessions', to='users.mqttuser')),
                ],
                options={
                    'db_table': 'audit_mqttsession',
                    'indexes': [models.Index(fields=['org', '-connected_at'], name='mqtt_session_org_time_idx'), models.Index(condition=models.Q(('disconnected_at__isnull', True)), fields=['org'], name='mqtt_session_open_idx')],
                    'constraints': [models.UniqueConstraint(fields=('node', 'client_id', 'connected_at_ms'), name='mqtt_session_identity')],
                },
            ),
            migrations.CreateModel(
                name='Revocation',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('kind', models.CharField(choices=[('disconnect', 'Disconnect'), ('refresh', 'Refresh ACL')], max_length=16)),
                    ('username', models.CharField(max_length=100)),
                    ('token_id', models.CharField(blank=True, max_length=32)),
                    ('client_id', models.CharField(blank=True, max_length=256)),
                    ('reason', models.CharField(max_length=64)),
                    ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                    ('org', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='orgs.organization')),
                ],
                options={
                    'db_table': 'broker_revocation',
                    'indexes': [models.Index(fields=['org', 'id'], name='revocation_org_cursor_idx')],
                },
            ),
    ],
            database_operations=[],
        ),
    ]
