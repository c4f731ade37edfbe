"""The broker as an attacker tries it: another org's wills, client ids, retained messages,
wrong credentials, control characters, placeholder tricks. Each both ways: what is refused
to the attacker still works for the owner."""

from __future__ import annotations

import time

import pytest

from acls.services import user_acl_save
from audit.models import AuditEvent
from audit.services import Actor
from sessions.models import MqttSession
from users.services import user_create
from users.tokens import token_mint

from .conftest import Client, mosquitto, mqttjs, wait_until
from .mqtt_wire import Wire

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ACTOR = Actor.system()
TRANSPORTS = ["mqtt", "mqtts", "wss"]


def device(org, name="device-1", rules=(("allow", "all", "x/#"),)):
    user, secret = user_create(org=org, name=name, actor=ACTOR)
    rules = [{"permission": p, "action": a, "topic": t} for p, a, t in rules]
    user_acl_save(user=user, rules=rules, rule_sets=[], revision=0, actor=ACTOR)
    return user, secret


@pytest.fixture
def victim(org_a):
    return device(org_a.org)


@pytest.fixture
def intruder(org_b):
    return device(org_b.org)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_will_outside_the_acl_is_never_published(broker, victim, org_a, org_b, transport):
    user_a, secret_a = victim
    org = org_a.org.id
    # The attacker: a browser token of org B whose user has an empty ACL.
    user_b, _ = user_create(org=org_b.org, name="browser", actor=ACTOR)
    _, token = token_mint(org=org_b.org, user=user_b, actor=ACTOR)
    listener = Client(broker, user_a.username, secret_a, client_id="listener")
    will = (f"{org}/x/devices/x/cmd", b"pwned", 1, True)
    attacker = Client(broker, user_b.username, token, client_id="evil", transport=transport, will=will)
    try:
        assert listener.connect() and listener.subscribe(f"{org}/x/#") == [1]
        assert attacker.connect()
        attacker.drop()
        time.sleep(1.0)
        assert listener.messages == []
    finally:
        listener.close()
    late = Client(broker, user_a.username, secret_a, client_id="late")
    try:
        assert late.connect() and late.subscribe(f"{org}/x/#") == [1]
        time.sleep(0.5)
        assert late.messages == [], "the will was retained in org A"
    finally:
        late.close()
    wait_until(
        lambda: AuditEvent.objects.filter(
            org=org_b.org, action="mqtt.acl_denied", details__topic=f"{org}/x/devices/x/cmd"
        ).exists()
    )


def test_a_will_inside_the_acl_is_published_and_retained(broker, victim, org_a):
    user, secret = victim
    org = org_a.org.id
    listener = Client(broker, user.username, secret, client_id="listener")
    dying = Client(
        broker, user.username, secret, client_id="dying", will=(f"{org}/x/status", b"offline", 1, True)
    )
    try:
        assert listener.connect() and listener.subscribe(f"{org}/x/#") == [1]
        assert dying.connect()
        dying.drop()
        wait_until(lambda: listener.messages == [(f"{org}/x/status", b"offline")])
    finally:
        listener.close()
    late = Client(broker, user.username, secret, client_id="late")
    try:
        assert late.connect() and late.subscribe(f"{org}/x/status") == [1]
        wait_until(lambda: late.messages == [(f"{org}/x/status", b"offline")])
    finally:
        late.close()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_same_client_id_in_two_orgs_neither_kicks_nor_shares_a_grant(
    broker, victim, intruder, org_a, transport
):
    (user_a, secret_a), (user_b, secret_b) = victim, intruder
    org = org_a.org.id
    a = Client(broker, user_a.username, secret_a, client_id="sensor-8", transport=transport)
    b = Client(broker, user_b.username, secret_b, client_id="sensor-8", transport=transport)
    watcher = Client(broker, user_a.username, secret_a, client_id="watcher")
    try:
        assert a.connect() and watcher.connect() and watcher.subscribe(f"{org}/x/#") == [1]
        assert b.connect()  # org B may use the id too
        b.publish(f"{org}/x/cmd", b"intruder")  # with org B's grant: denied
        a.publish(f"{org}/x/cmd", b"owner")
        wait_until(lambda: watcher.messages)
        time.sleep(0.3)
        assert watcher.messages == [(f"{org}/x/cmd", b"owner")]
        assert not a.disconnected.is_set() and not b.disconnected.is_set()
    finally:
        for c in (a, b, watcher):
            c.close()


@pytest.mark.parametrize("clean", [True, False])
def test_wrong_credentials_never_touch_a_live_session(broker, victim, org_a, clean):
    user, secret = victim
    org = org_a.org.id
    live = Client(broker, user.username, secret, client_id="sensor-8", clean=False)
    talker = Client(broker, user.username, secret, client_id="talker")
    try:
        assert live.connect() and talker.connect() and live.subscribe(f"{org}/x/#") == [1]
        for username, password in [
            (user.username, secret + "x"),
            ("device-1@org_zzzzzzzzzzzz", "nothing"),
            ("nobody", "nothing"),
        ]:
            wire = Wire(broker.ports["mqtt"])
            assert wire.connect("sensor-8", username, password, clean=clean) == 5
            wire.close()
        time.sleep(0.3)
        assert not live.disconnected.is_set()
        talker.publish(f"{org}/x/still", b"subscribed")
        wait_until(lambda: (f"{org}/x/still", b"subscribed") in live.messages)
    finally:
        live.close()
        talker.close()


def test_within_one_org_a_client_id_held_by_another_user_is_refused(broker, victim, org_a):
    user, secret = victim
    other, other_secret = device(org_a.org, "device-2")
    holder = Client(broker, user.username, secret, client_id="sensor-8")
    try:
        assert holder.connect()
        wire = Wire(broker.ports["mqtt"])
        assert wire.connect("sensor-8", other.username, other_secret) == 2  # identifier rejected
        wire.close()
        assert not holder.disconnected.wait(0.3)
        # The same user taking its own id over is MQTT's takeover: the old connection closes.
        again = Client(broker, user.username, secret, client_id="sensor-8")
        assert again.connect()
        wait_until(holder.disconnected.is_set)
        again.close()
    finally:
        holder.close()
    wait_until(
        lambda: MqttSession.objects.filter(client_id="sensor-8", disconnect_reason="takenover").count() == 1
    )
    wait_until(lambda: AuditEvent.objects.filter(action="mqtt.connect_refused").exists())
    refused = AuditEvent.objects.get(action="mqtt.connect_refused")
    assert refused.details["reason_code"] == "client_identifier_in_use"
    assert refused.actor_label == other.username


def test_retained_messages_reach_only_subscribers_the_acl_allows(broker, victim, intruder, org_a, org_b):
    (user_a, secret_a), (user_b, secret_b) = victim, intruder
    org = org_a.org.id
    owner = Client(broker, user_a.username, secret_a, client_id="owner")
    try:
        assert owner.connect()
        owner.publish(f"{org}/x/status", b"secret-status", retain=True)
    finally:
        owner.close()
    # Org B over mosquitto_sub: every filter it may try, no retained message of org A.
    for topic in ("#", "+/#", f"{org}/#", f"{org_b.org.id}/#"):
        code, output = mosquitto(
            "mosquitto_sub", broker, user_b.username, secret_b, "-t", topic, "-W", "2", "-v", "-i", "probe"
        )
        assert "secret-status" not in output, (topic, output)
    # ... and over MQTT.js on WSS.
    events = mqttjs(broker, user_b.username, secret_b, client_id="probe-js", subscribe=["#", f"{org}/#"])
    assert {"event": "connect"} in events, events
    assert not [e for e in events if e["event"] == "message"], events
    assert [e["granted"] for e in events if e["event"] == "suback"] == [[128], [128]]
    # The owner's org gets it, over both clients.
    code, output = mosquitto(
        "mosquitto_sub",
        broker,
        user_a.username,
        secret_a,
        "-t",
        f"{org}/x/#",
        "-C",
        "1",
        "-W",
        "5",
        "-i",
        "m",
    )
    assert output.strip() == "secret-status", output
    events = mqttjs(broker, user_a.username, secret_a, client_id="js", subscribe=[f"{org}/x/#"])
    assert [e["payload"] for e in events if e["event"] == "message"] == ["secret-status"], events


def test_a_denied_subscribe_is_audited(broker, victim, org_a, org_b):
    user, secret = victim
    client = Client(broker, user.username, secret, client_id="c")
    try:
        assert client.connect()
        assert client.subscribe(f"{org_b.org.id}/#") == [128]
        assert client.subscribe(f"{org_a.org.id}/x/#") == [1]
    finally:
        client.close()
    wait_until(lambda: AuditEvent.objects.filter(action="mqtt.acl_denied").exists())
    denied = AuditEvent.objects.get(action="mqtt.acl_denied")
    assert denied.details["action"] == "subscribe" and denied.details["topic"] == f"{org_b.org.id}/#"


@pytest.mark.parametrize(
    "client_id, username_suffix, code",
    [("bad\x00id", "", 2), ("bad\nid", "", 2), ("ok", "\x07", 4), ("\x1b[31m", "", 2)],
)
def test_control_characters_in_client_ids_and_usernames_are_refused(
    broker, victim, client_id, username_suffix, code
):
    user, secret = victim
    wire = Wire(broker.ports["mqtt"])
    assert wire.connect(client_id, user.username + username_suffix, secret) == code
    wire.close()
    ok = Wire(broker.ports["mqtt"])
    assert ok.connect("plain-id", user.username, secret) == 0
    ok.disconnect()
    wait_until(lambda: MqttSession.objects.filter(client_id="plain-id").exists())
    assert not MqttSession.objects.exclude(client_id="plain-id").exists()


def test_a_client_id_placeholder_expands_once(broker, org_a):
    user, secret = device(org_a.org, "dev-7", rules=(("allow", "all", "devices/%c/#"),))
    org = org_a.org.id
    client = Client(broker, user.username, secret, client_id="%u")
    try:
        assert client.connect()
        assert client.subscribe(f"{org}/devices/%u/#") == [1]
        assert client.subscribe(f"{org}/devices/dev-7/#") == [128]  # %u did not expand again
        client.publish(f"{org}/devices/%u/t", b"own")
        wait_until(lambda: client.messages == [(f"{org}/devices/%u/t", b"own")])
    finally:
        client.close()


def test_a_client_looping_outside_its_acl_cannot_flood_the_audit_log(
    live_server, victim, org_a, monkeypatch, settings
):
    from audit import writer

    from .conftest import BrokerProcess

    monkeypatch.setenv("BROKER_DENIAL_WINDOW_MS", "3000")
    settings.AUDIT_DRAIN_THREAD = True
    broker = BrokerProcess(live_server.url)
    user, secret = victim
    flood = Client(broker, user.username, secret, client_id="flood")
    try:
        assert flood.connect()
        for n in range(100):
            flood.publish(f"{org_a.org.id}/not-granted/{n}", b"x", qos=0)
        denied = AuditEvent.objects.filter(action="mqtt.acl_denied")
        wait_until(lambda: denied.count() == 60)
        time.sleep(3.5)  # the window ends: the next denial says how many were left out
        flood.publish(f"{org_a.org.id}/not-granted/last", b"x", qos=0)
        wait_until(lambda: denied.count() == 61)
        assert denied.order_by("-seq").first().details["suppressed"] == 40
        assert not flood.disconnected.is_set()
    finally:
        flood.close()
        writer.stop_drainer()
        broker.stop()


def test_reconnecting_at_once_with_the_same_id_leaves_no_ghost_session(broker, victim):
    """A client that reconnects while its previous connection is still closing (what a
    script running mosquitto_pub twice does) ends with every session closed: none stays
    "live" to eat the org's connection quota."""
    user, secret = victim
    for _ in range(5):
        first = Wire(broker.ports["mqtt"])
        assert first.connect("quick", user.username, secret) == 0
        first.disconnect()
        second = Wire(broker.ports["mqtt"])
        assert second.connect("quick", user.username, secret) == 0
        second.disconnect()
    sessions = MqttSession.objects.filter(client_id="quick")
    wait_until(lambda: sessions.count() == 10 and not sessions.filter(disconnected_at__isnull=True).exists())
