"""Alert evidence links to audit events by their place in the org's chain (the detail URL
is per org now); evidence recorded before carries the event's global id only."""

from django.db import migrations


def add_seq(apps, schema_editor):
    Alert = apps.get_model("audit", "Alert")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    for alert in Alert.objects.all().iterator():
        ids = [item.get("id") for item in alert.evidence if item.get("kind") == "event" and "seq" not in item]
        if not ids:
            continue
        seqs = dict(AuditEvent.objects.filter(org_id=alert.org_id, pk__in=ids).values_list("pk", "seq"))
        for item in alert.evidence:
            if item.get("kind") == "event" and "seq" not in item and item.get("id") in seqs:
                item["seq"] = seqs[item["id"]]  # a purged event keeps its label, without a link
        alert.save(update_fields=["evidence"])


class Migration(migrations.Migration):
    dependencies = [("audit", "0009_application_role")]

    operations = [migrations.RunPython(add_seq, migrations.RunPython.noop)]
