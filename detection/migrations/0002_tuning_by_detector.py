"""Each detector declares its settings (detection.registry): an org's values move from one
column per setting to ``ScanSettings.tuning`` (only those that differ from the default).
0003 drops the columns (apart: PostgreSQL refuses to alter a table with pending trigger
events in the transaction that updated it)."""

from django.db import migrations, models

# The columns as they were, with their defaults (frozen here: the registry may change).
COLUMNS = {
    "brute_force_failures": 10,
    "brute_force_minutes": 5,
    "brute_force_disable_user": False,
    "shared_credentials": True,
    "new_address_days": 30,
    "new_address_by_subnet": True,
    "flapping_connects": 10,
    "flapping_minutes": 5,
    "acl_denials": 50,
    "acl_denial_minutes": 5,
    "mint_tokens": 200,
    "mint_minutes": 5,
    "dormant_days": 90,
    "permanent_over_wss": True,
}


def columns_to_tuning(apps, schema_editor):
    ScanSettings = apps.get_model("detection", "ScanSettings")
    for cfg in ScanSettings.objects.all():
        cfg.tuning = {
            name: getattr(cfg, name) for name, default in COLUMNS.items() if getattr(cfg, name) != default
        }
        cfg.save(update_fields=["tuning"])


def tuning_to_columns(apps, schema_editor):
    ScanSettings = apps.get_model("detection", "ScanSettings")
    for cfg in ScanSettings.objects.all():
        for name, default in COLUMNS.items():
            setattr(cfg, name, cfg.tuning.get(name, default))
        cfg.save(update_fields=list(COLUMNS))


class Migration(migrations.Migration):
    dependencies = [("detection", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="scansettings",
            name="tuning",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(columns_to_tuning, tuning_to_columns),
    ]
