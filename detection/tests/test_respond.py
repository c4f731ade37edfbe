"""Acting from an alert: what its page offers, what each response does, what is refused."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import Actor
from broker.events import ingest
from detection.models import Alert
from sessions.models import MqttSession, Revocation
from users.models import TempToken
from users.tokens import token_mint


def _alert(world, subject: str, evidence=()) -> Alert:
    now = timezone.now()
    return Alert.objects.create(
        org=world.org,
        detector="shared_credentials",
        subject=subject,
        severity="high",
        summary="s",
        evidence=list(evidence),
        first_seen=now,
        last_seen=now,
    )


def _connect(world, client_id: str, username: str, ip="192.0.2.9") -> MqttSession:
    ms = 1_700_000_000_000 + len(client_id)
    base = {"node": "n1", "clientid": client_id, "username": username, "connected_at": ms, "timestamp": ms}
    ingest([{**base, "event": "client.connected", "peername": f"{ip}:1"}])
    return MqttSession.objects.get(org=world.org, client_id=client_id)


def _respond(client, alert, **data):
    url = reverse("alerts:respond", kwargs={"org_id": alert.org_id, "alert_id": alert.pk})
    return client.post(url, data)


@pytest.fixture
def user_alert(org_a):
    user = org_a.mqtt_user
    _connect(org_a, "c-1", user.username)
    _connect(org_a, "c-2", user.username)
    token_mint(org=org_a.org, user=user, actor=Actor.system())
    token_mint(org=org_a.org, user=user, actor=Actor.system())
    return _alert(org_a, f"user {user.username}")


def test_the_alert_page_offers_the_users_live_clients_disable_and_its_tokens(org_a, client_for, user_alert):
    url = reverse("alerts:detail", kwargs={"org_id": org_a.org.id, "alert_id": user_alert.pk})
    page = client_for(org_a.admin).get(url).content.decode()
    assert "c-1" in page and "c-2" in page and f"Disable {org_a.mqtt_user.name}" in page
    assert "Revoke 2 tokens" in page and page.count("data-confirm=") >= 4
    assert 'id="respond"' not in client_for(org_a.auditor).get(url).content.decode()


def test_disconnect_from_an_alert_drops_that_client_and_is_in_its_history(org_a, client_for, user_alert):
    client = client_for(org_a.admin)
    response = _respond(client, user_alert, action="disconnect", client_id="c-2")
    assert response.status_code == 302
    assert list(Revocation.objects.values_list("client_id", "reason")) == [("c-2", "admin_disconnect")]
    responded = AuditEvent.objects.get(action="alert.responded")
    assert responded.subject_id == user_alert.pk and responded.actor_label == org_a.admin.email
    assert AuditEvent.objects.filter(action="mqtt.session_disconnected").count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "Disconnected c-2 (1 connection)." in page and "Acted on from an alert" in page


def test_disable_and_revoke_from_an_alert(org_a, client_for, user_alert):
    client = client_for(org_a.admin)
    assert _respond(client, user_alert, action="revoke_tokens").status_code == 302
    assert not TempToken.objects.filter(org=org_a.org).with_status("active").exists()
    assert _respond(client, user_alert, action="disable").status_code == 302
    org_a.mqtt_user.refresh_from_db()
    assert not org_a.mqtt_user.enabled
    assert set(Revocation.objects.values_list("reason", flat=True)) == {"token_revoked", "user_disabled"}
    # Done is done: a second time says why and changes nothing.
    again = _respond(client, user_alert, action="disable")
    assert again.status_code == 422 and "already disabled" in again.content.decode()
    again = _respond(client, user_alert, action="revoke_tokens")
    assert again.status_code == 422 and "no active token" in again.content.decode()
    assert AuditEvent.objects.filter(action="alert.responded").count() == 2


def test_an_alert_cannot_be_used_to_disconnect_a_client_it_is_not_about(org_a, client_for, user_alert):
    """Someone who can respond to one alert must not reach every client through it."""
    _connect(org_a, "bystander", f"other@{org_a.org.id}")
    response = _respond(client_for(org_a.admin), user_alert, action="disconnect", client_id="bystander")
    assert response.status_code == 422 and "not a live client of this alert" in response.content.decode()
    assert (
        not Revocation.objects.exists() and not AuditEvent.objects.filter(action="alert.responded").exists()
    )


@pytest.mark.parametrize("data", [{}, {"action": "delete_org"}, {"action": "disable\x00"}])
def test_an_unknown_response_is_refused_with_the_choices(org_a, client_for, user_alert, data):
    response = _respond(client_for(org_a.admin), user_alert, **data)
    assert response.status_code in (400, 422)
    assert not Revocation.objects.exists()


def test_an_alert_of_another_org_naming_our_user_acts_on_nothing_of_ours(org_a, org_b, client_for):
    """The subject is text a scan wrote; a user named in org B's alert is looked up in org B."""
    _connect(org_a, "ours", org_a.mqtt_user.username)
    theirs = _alert(org_b, f"user {org_a.mqtt_user.username}")
    response = _respond(client_for(org_b.admin), theirs, action="disable")
    assert response.status_code == 422 and "names no MQTT user" in response.content.decode()
    org_a.mqtt_user.refresh_from_db()
    assert org_a.mqtt_user.enabled


def test_an_address_alert_offers_the_clients_connected_from_it(org_a, client_for):
    _connect(org_a, "from-there", org_a.mqtt_user.username, ip="203.0.113.5")
    _connect(org_a, "elsewhere", f"x@{org_a.org.id}", ip="198.51.100.1")
    alert = _alert(org_a, "address 203.0.113.5")
    url = reverse("alerts:detail", kwargs={"org_id": org_a.org.id, "alert_id": alert.pk})
    page = client_for(org_a.admin).get(url).content.decode()
    assert "from-there" in page and "elsewhere" not in page and "Disable" not in page
