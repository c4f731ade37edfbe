"""Accounts made before email verification: their email counts as verified (they signed in
with it), so django-allauth's mandatory verification does not lock them out."""

from django.db import migrations


def verify_existing(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    EmailAddress = apps.get_model("account", "EmailAddress")
    known = set(EmailAddress.objects.values_list("user_id", flat=True))
    EmailAddress.objects.bulk_create(
        [
            EmailAddress(user_id=user.pk, email=user.email, verified=True, primary=True)
            for user in User.objects.exclude(pk__in=known).only("pk", "email")
        ]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_pending_org_name"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [migrations.RunPython(verify_existing, migrations.RunPython.noop)]
