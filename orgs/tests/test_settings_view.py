from __future__ import annotations

from django.urls import reverse

from audit.models import AuditEvent
from orgs.models import Organization

VALID = {
    "name": "Acme Robotics",
    "max_mqtt_users": "250",
    "max_connections": "5000",
    "token_ttl_default": "1800",
    "token_ttl_max": "7200",
    "audit_retention_days": "90",
}


def _url(world):
    return reverse("orgs:settings", kwargs={"org_id": world.org.id})


def test_owner_saves_quotas_and_the_change_is_audited(org_a, client_for):
    response = client_for(org_a.owner).post(_url(org_a), VALID, REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 302
    org = Organization.objects.get(pk=org_a.org.pk)
    assert (org.name, org.max_mqtt_users, org.token_ttl_default, org.token_ttl_max) == (
        "Acme Robotics",
        250,
        1800,
        7200,
    )
    event = AuditEvent.objects.filter(org=org, action="org.updated").get()
    assert event.actor_label == org_a.owner.email
    assert event.peer_ip == "203.0.113.9"
    assert event.details["before"]["token_ttl_default"] == 3600
    assert event.details["after"]["token_ttl_default"] == 1800
    assert "audit_retention_days" in event.details["after"]


def test_a_default_ttl_above_the_maximum_is_explained_and_nothing_is_saved(org_a, client_for):
    data = {**VALID, "token_ttl_default": "7200", "token_ttl_max": "3600"}
    response = client_for(org_a.owner).post(_url(org_a), data)
    assert response.status_code == 200
    assert "must not exceed the maximum token TTL (3600 s)" in response.content.decode()
    org = Organization.objects.get(pk=org_a.org.pk)
    assert (org.name, org.token_ttl_max, org.max_mqtt_users) == ("Acme", 86400, 100)
    assert not AuditEvent.objects.filter(org=org, action="org.updated").exists()


def test_out_of_range_and_non_numeric_quotas_are_refused(org_a, client_for):
    client = client_for(org_a.owner)
    for field, value in [
        ("token_ttl_max", "90000"),
        ("max_mqtt_users", "0"),
        ("max_connections", "lots"),
        ("name", "  "),
    ]:
        response = client.post(_url(org_a), {**VALID, field: value})
        assert response.status_code == 200, field
        assert 'aria-invalid="true"' in response.content.decode(), field
    assert Organization.objects.get(pk=org_a.org.pk).name == "Acme"


def test_admins_and_auditors_see_quotas_but_cannot_change_them(org_a, client_for):
    for user in (org_a.admin, org_a.auditor):
        client = client_for(user)
        page = client.get(_url(org_a))
        assert page.status_code == 200 and "Only owners change quotas" in page.content.decode()
        assert client.post(_url(org_a), VALID).status_code == 403
    assert Organization.objects.get(pk=org_a.org.pk).name == "Acme"


def test_saving_unchanged_settings_records_nothing(org_a, client_for):
    same = {
        "name": "Acme",
        "max_mqtt_users": "100",
        "max_connections": "1000",
        "token_ttl_default": "3600",
        "token_ttl_max": "86400",
        "audit_retention_days": "365",
    }
    assert client_for(org_a.owner).post(_url(org_a), same).status_code == 302
    assert not AuditEvent.objects.filter(org=org_a.org, action="org.updated").exists()
