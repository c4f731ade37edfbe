"""The settings' columns are gone (their values are in ``tuning`` since 0002), and an
alert's detector is any registered key: adding a detector needs no migration."""

from django.db import migrations, models

COLUMNS = [
    "brute_force_failures",
    "brute_force_minutes",
    "brute_force_disable_user",
    "shared_credentials",
    "new_address_days",
    "new_address_by_subnet",
    "flapping_connects",
    "flapping_minutes",
    "acl_denials",
    "acl_denial_minutes",
    "mint_tokens",
    "mint_minutes",
    "dormant_days",
    "permanent_over_wss",
]


class Migration(migrations.Migration):
    dependencies = [("detection", "0002_tuning_by_detector")]

    operations = [
        *[migrations.RemoveField(model_name="scansettings", name=name) for name in COLUMNS],
        migrations.AlterField(
            model_name="alert",
            name="detector",
            field=models.CharField(help_text="A registered detector's key (detection.registry).", max_length=32),
        ),
    ]
