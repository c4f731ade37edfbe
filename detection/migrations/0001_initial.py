"""Alerts and scan settings join this app from audit: state only, the tables keep their
names (audit_alert, audit_scansettings)."""

import detection.models
import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('audit', '0011_sessions_move_to_their_app'),
        ('orgs', '0003_alter_organization_name'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ScanSettings',
                    fields=[
                        ('org', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to='orgs.organization')),
                        ('brute_force_failures', models.PositiveIntegerField(default=10, validators=[django.core.validators.MinValueValidator(2, 'Use at least 2.'), django.core.validators.MaxValueValidator(100000, 'Use at most 100,000.')])),
                        ('brute_force_minutes', models.PositiveIntegerField(default=5, validators=[django.core.validators.MinValueValidator(1, 'Use at least 1.'), django.core.validators.MaxValueValidator(1440, 'Use at most 1,440.')])),
                        ('brute_force_disable_user', models.BooleanField(default=False, help_text='Disable the MQTT user when a brute force is followed by a success.')),
                        ('shared_credentials', models.BooleanField(default=True)),
                        ('new_address_days', models.PositiveIntegerField(default=30, validators=[django.core.validators.MinValueValidator(1, 'Use at least 1.'), django.core.validators.MaxValueValidator(365, 'Use at most 365.')])),
                        ('new_address_by_subnet', models.BooleanField(default=True, help_text='Compare /24 (IPv4) or /64 (IPv6).')),
                        ('flapping_connects', models.PositiveIntegerField(default=10, validators=[django.core.validators.MinValueValidator(2, 'Use at least 2.'), django.core.validators.MaxValueValidator(100000, 'Use at most 100,000.')])),
                        ('flapping_minutes', models.PositiveIntegerField(default=5, validators=[django.core.validators.MinValueValidator(1, 'Use at least 1.'), django.core.validators.MaxValueValidator(1440, 'Use at most 1,440.')])),
                        ('acl_denials', models.PositiveIntegerField(default=50, validators=[django.core.validators.MinValueValidator(1, 'Use at least 1.'), django.core.validators.MaxValueValidator(1000000, 'Use at most 1,000,000.')])),
                        ('acl_denial_minutes', models.PositiveIntegerField(default=5, validators=[django.core.validators.MinValueValidator(1, 'Use at least 1.'), django.core.validators.MaxValueValidator(1440, 'Use at most 1,440.')])),
                        ('mint_tokens', models.PositiveIntegerField(default=200, validators=[django.core.validators.MinValueValidator(1, 'Use at least 1.'), django.core.validators.MaxValueValidator(1000000, 'Use at most 1,000,000.')])),
                        ('mint_minutes', models.PositiveIntegerField(default=5, validators=[django.core.validators.MinValueValidator(1, 'Use at least 1.'), django.core.validators.MaxValueValidator(1440, 'Use at most 1,440.')])),
                        ('dormant_days', models.PositiveIntegerField(default=90, validators=[django.core.validators.MinValueValidator(7, 'Use at least 7.'), django.core.validators.MaxValueValidator(3650, 'Use at most 3,650.')])),
                        ('permanent_over_wss', models.BooleanField(default=True)),
                        ('webhook_url', models.URLField(blank=True, max_length=500)),
                        ('webhook_salt', models.CharField(blank=True, max_length=32)),
                        ('last_scan_at', models.DateTimeField(blank=True, null=True)),
                        ('last_scan_ms', models.PositiveIntegerField(blank=True, null=True)),
                    ],
                    options={
                        'db_table': 'audit_scansettings',
                    },
                ),
                migrations.CreateModel(
                    name='Alert',
                    fields=[
                        ('id', models.CharField(default=detection.models._alert_id, editable=False, max_length=32, primary_key=True, serialize=False)),
                        ('detector', models.CharField(choices=[('brute_force', 'Brute force'), ('shared_credentials', 'Shared credentials'), ('new_address', 'New address'), ('flapping', 'Flapping client'), ('acl_denials', 'ACL denial spike'), ('mint_spike', 'Token minting spike'), ('dormant', 'Dormant credentials'), ('permanent_over_wss', 'Permanent secret over WebSocket')], max_length=32)),
                        ('subject', models.CharField(help_text='What it is about: a username, an address, a key.', max_length=300)),
                        ('severity', models.CharField(choices=[('low', 'Low'), ('medium', 'Medium'), ('high', 'High')], max_length=8)),
                        ('status', models.CharField(choices=[('open', 'Open'), ('acknowledged', 'Acknowledged'), ('resolved', 'Resolved')], default='open', max_length=16)),
                        ('summary', models.CharField(max_length=500)),
                        ('evidence', models.JSONField(blank=True, default=list)),
                        ('count', models.PositiveIntegerField(default=1)),
                        ('first_seen', models.DateTimeField()),
                        ('last_seen', models.DateTimeField()),
                        ('response', models.CharField(blank=True, help_text='What the automatic response did.', max_length=300)),
                        ('acknowledged_by', models.CharField(blank=True, max_length=254)),
                        ('acknowledged_at', models.DateTimeField(blank=True, null=True)),
                        ('resolved_by', models.CharField(blank=True, max_length=254)),
                        ('resolved_at', models.DateTimeField(blank=True, null=True)),
                        ('comment', models.TextField(blank=True)),
                        ('org', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='orgs.organization')),
                    ],
                    options={
                        'db_table': 'audit_alert',
                        'indexes': [models.Index(fields=['org', 'status', '-last_seen'], name='alert_org_status_idx')],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('status', 'resolved'), _negated=True), fields=('org', 'detector', 'subject'), name='alert_one_unresolved_per_subject')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
