"""End to end: the dashboard's live server, the broker process and paho-mqtt clients."""

from __future__ import annotations

import pytest

from acls.services import user_acl_save
from audit.models import AuditEvent, MqttSession
from audit.services import Actor
from users.services import user_create, user_update

from .conftest import Client, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ACTOR = Actor.system()


@pytest.fixture
def device(org_a):
    user, secret = user_create(org=org_a.org, name="device-1", actor=ACTOR)
    rules = [{"permission": "allow", "action": "all", "topic": "x/#"}]
    user_acl_save(user=user, rules=rules, rule_sets=[], revision=0, actor=ACTOR)
    return user, secret


@pytest.mark.parametrize("transport", ["mqtt", "mqtts", "wss"])
def test_a_permanent_secret_connects_over_every_listener(broker, device, transport):
    user, secret = device
    client = Client(broker, user.username, secret, client_id=f"c-{transport}", transport=transport)
    try:
        assert client.connect()
    finally:
        client.close()
    event = AuditEvent.objects.get(action="auth.success")
    assert event.details["transport"] == transport
    wait_until(lambda: MqttSession.objects.filter(client_id=f"c-{transport}", transport=transport).exists())


def test_a_wrong_secret_is_refused_and_audited(broker, device):
    user, secret = device
    client = Client(broker, user.username, secret + "x", client_id="bad")
    try:
        assert not client.connect()
    finally:
        client.close()
    assert AuditEvent.objects.get(action="auth.failure").details["reason"] == "bad_secret"


def test_the_acl_is_enforced_inside_the_broker(broker, device, org_a):
    user, secret = device
    org = org_a.org.id
    listener = Client(broker, user.username, secret, client_id="listener")
    talker = Client(broker, user.username, secret, client_id="talker")
    try:
        assert listener.connect() and talker.connect()
        assert listener.subscribe(f"{org}/x/#") == [1]
        assert listener.subscribe(f"{org}/y/#") == [128]
        talker.publish(f"{org}/y/secret", b"no")
        talker.publish(f"{org}/x/ok", b"yes")
        wait_until(lambda: listener.messages)
        assert listener.messages == [(f"{org}/x/ok", b"yes")]
    finally:
        listener.close()
        talker.close()
    wait_until(lambda: AuditEvent.objects.filter(action="mqtt.acl_denied").exists())


def test_disabling_a_user_drops_its_live_session_within_2_seconds(broker, device):
    user, secret = device
    client = Client(broker, user.username, secret, client_id="victim")
    try:
        assert client.connect()
        wait_until(lambda: MqttSession.objects.filter(client_id="victim").exists())
        user_update(user=user, enabled=False, actor=ACTOR)
        waited = wait_until(client.disconnected.is_set, timeout=2.0)
        assert waited <= 2.0
    finally:
        client.close()
    wait_until(lambda: MqttSession.objects.get(client_id="victim").disconnect_reason == "user_disabled")
