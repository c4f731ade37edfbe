"""Alert and ScanSettings now belong to the detection app (state only)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('detection', '0001_initial'),
        ('audit', '0011_sessions_move_to_their_app'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='scansettings',
                    name='org',
                ),
                migrations.DeleteModel(
                    name='Alert',
                ),
                migrations.DeleteModel(
                    name='ScanSettings',
                ),
            ],
            database_operations=[],
        ),
    ]
