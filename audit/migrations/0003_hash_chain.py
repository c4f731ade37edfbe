import django.db.models.deletion
from django.db import migrations, models


def chain_existing(apps, schema_editor):
    """Give the events recorded before the chain existed their places and hashes."""
    from audit.chain import link

    AuditEvent = apps.get_model("audit", "AuditEvent")
    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    heads = {}
    for event in AuditEvent.objects.order_by("at", "id").iterator():
        seq, prev = heads.get(event.org_id, (0, ""))
        event.seq = seq + 1
        event.hash = link(prev, {name: getattr(event, name) for name in (
            "org_id", "seq", "at", "actor_type", "actor_id", "actor_label", "action", "subject_type",
            "subject_id", "subject_label", "outcome", "peer_ip", "details")})
        event.save(update_fields=["seq", "hash"])
        heads[event.org_id] = (event.seq, event.hash)
    AuditChainHead.objects.bulk_create(
        AuditChainHead(org_id=org_id, seq=seq, hash=digest) for org_id, (seq, digest) in heads.items()
    )


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0002_mqttsession'),
        ('orgs', '0003_alter_organization_name'),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditChainHead',
            fields=[
                ('org', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to='orgs.organization')),
                ('seq', models.BigIntegerField(default=0)),
                ('hash', models.CharField(blank=True, max_length=64)),
            ],
        ),
        migrations.CreateModel(
            name='AuditQueueMark',
            fields=[
                ('name', models.CharField(max_length=32, primary_key=True, serialize=False)),
                ('epoch', models.CharField(blank=True, max_length=32)),
                ('last_id', models.BigIntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name='AuditCheckpoint',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('seq', models.BigIntegerField()),
                ('hash', models.CharField(max_length=64)),
                ('purged', models.BigIntegerField()),
                ('cutoff', models.DateTimeField()),
                ('at', models.DateTimeField()),
                ('org', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='orgs.organization')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('org', 'seq'), name='audit_checkpoint_org_seq')],
            },
        ),
        migrations.AddField(model_name='auditevent', name='seq', field=models.BigIntegerField(null=True)),
        migrations.AddField(model_name='auditevent', name='hash', field=models.CharField(default='', max_length=64)),
        migrations.RunPython(chain_existing, migrations.RunPython.noop),
        migrations.AlterField(model_name='auditevent', name='seq', field=models.BigIntegerField()),
        migrations.AlterField(model_name='auditevent', name='hash', field=models.CharField(max_length=64)),
        migrations.AddConstraint(
            model_name='auditevent',
            constraint=models.UniqueConstraint(fields=('org', 'seq'), name='audit_org_seq_unique'),
        ),
    ]
