"""The broker as an integrator relies on it: protocol versions, keepalive and wills, QoS,
persistent sessions and redelivery, TLS settings, token expiry to the second."""

from __future__ import annotations

import socket
import ssl
import subprocess
import time

import paho.mqtt.client as mqtt
import pytest
from django.utils import timezone

from audit.services import Actor
from sessions.models import MqttSession
from users.tokens import token_mint

from .conftest import Client, mosquitto, wait_until
from .mqtt_wire import Wire
from .test_broker_isolation import device

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ACTOR = Actor.system()


@pytest.fixture
def dev(org_a):
    return device(org_a.org)


def test_mqtt_5_is_refused_at_once_with_unsupported_protocol_version(broker, dev):
    user, secret = dev
    wire = Wire(broker.ports["mqtt"])
    started = time.monotonic()
    assert wire.connect("v5", user.username, secret, version=5) == 1  # 0x01: unacceptable version
    assert wire.read(timeout=2) is None  # and the connection is closed
    assert time.monotonic() - started < 2
    # A real MQTT 5 client (paho) gets its refusal at once too, never a hang.
    client = Client(broker, user.username, secret, client_id="paho-v5", protocol=mqtt.MQTTv5)
    try:
        started = time.monotonic()
        assert not client.connect(timeout=5)
        assert time.monotonic() - started < 3
    finally:
        client.close()
    started = time.monotonic()
    code, output = mosquitto("mosquitto_sub", broker, user.username, secret, "-V", "5", "-t", "a", "-W", "5")
    assert code != 0 and "Unsupported Protocol Version" in output, output
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("protocol", [mqtt.MQTTv31, mqtt.MQTTv311])
def test_mqtt_3_1_and_3_1_1_clients_connect_and_exchange_messages(broker, dev, org_a, protocol):
    user, secret = dev
    topic = f"{org_a.org.id}/x/v{protocol}"
    client = Client(broker, user.username, secret, client_id="v3-client", protocol=protocol)
    try:
        assert client.connect()
        assert client.subscribe(topic) == [1]
        client.publish(topic, b"hello")
        wait_until(lambda: client.messages == [(topic, b"hello")])
    finally:
        client.close()
    wait_until(lambda: MqttSession.objects.filter(client_id="v3-client").exists())
    assert MqttSession.objects.get(client_id="v3-client").proto_ver == (
        "3" if protocol == mqtt.MQTTv31 else "4"
    )
    # MQTT 3.1 allows client ids of at most 23 characters: a longer one is refused, not cut.
    wire = Wire(broker.ports["mqtt"])
    assert wire.connect("x" * 24, user.username, secret, version=3) == 2
    wire.close()


def test_a_silent_client_is_dropped_after_its_keepalive_and_its_will_fires(broker, dev, org_a):
    user, secret = dev
    org = org_a.org.id
    listener = Client(broker, user.username, secret, client_id="listener")
    try:
        assert listener.connect() and listener.subscribe(f"{org}/x/#") == [1]
        wire = Wire(broker.ports["mqtt"])
        will = (f"{org}/x/half-open", b"gone", 1, False)
        assert wire.connect("half-open", user.username, secret, keepalive=1, will=will) == 0
        started = time.monotonic()  # then silence: no PINGREQ, the socket stays open
        waited = wait_until(lambda: listener.messages == [(f"{org}/x/half-open", b"gone")], timeout=5)
        assert 1.0 <= time.monotonic() - started and waited < 4  # 1.5 x keepalive
        wire.close()
    finally:
        listener.close()
    wait_until(
        lambda: MqttSession.objects.filter(
            client_id="half-open", disconnect_reason="keepalive_timeout"
        ).exists()
    )


def test_deliveries_take_the_lower_of_the_publish_and_subscription_qos(broker, dev, org_a):
    user, secret = dev
    org = org_a.org.id
    low = Client(broker, user.username, secret, client_id="low")
    high = Client(broker, user.username, secret, client_id="high")
    talker = Client(broker, user.username, secret, client_id="talker")
    try:
        assert low.connect() and high.connect() and talker.connect()
        assert low.subscribe(f"{org}/x/q", qos=0) == [0]
        assert high.subscribe(f"{org}/x/q", qos=2) == [2]
        talker.publish(f"{org}/x/q", b"one", qos=1)
        wait_until(lambda: low.received and high.received)
        assert [m.qos for m in low.received] == [0]
        assert [m.qos for m in high.received] == [1]
    finally:
        for c in (low, high, talker):
            c.close()


def test_a_persistent_session_keeps_its_subscriptions_and_queues_qos1_messages_offline(broker, dev, org_a):
    user, secret = dev
    org = org_a.org.id
    sleeper = Client(broker, user.username, secret, client_id="sleeper", clean=False)
    assert sleeper.connect() and sleeper.subscribe(f"{org}/x/inbox/#") == [1]
    sleeper.close()
    talker = Client(broker, user.username, secret, client_id="talker")
    try:
        assert talker.connect()
        for n in range(3):
            talker.publish(f"{org}/x/inbox/{n}", f"m{n}".encode())
        talker.publish(f"{org}/x/elsewhere", b"not subscribed")
    finally:
        talker.close()
    woken = Client(broker, user.username, secret, client_id="sleeper", clean=False)
    try:
        assert woken.connect() and woken.session_present
        wait_until(lambda: len(woken.messages) == 3)
        assert woken.messages == [(f"{org}/x/inbox/{n}", f"m{n}".encode()) for n in range(3)]
    finally:
        woken.close()
    # A clean session starts empty, and forgets the persistent one.
    fresh = Client(broker, user.username, secret, client_id="sleeper", clean=True)
    try:
        assert fresh.connect() and not fresh.session_present
    finally:
        fresh.close()


def test_an_unacknowledged_qos1_message_is_redelivered_on_reconnect(broker, dev, org_a):
    user, secret = dev
    org = org_a.org.id
    wire = Wire(broker.ports["mqtt"])
    assert wire.connect("forgetful", user.username, secret, clean=False) == 0
    assert wire.subscribe(f"{org}/x/job", qos=1) == [1]
    talker = Client(broker, user.username, secret, client_id="talker")
    try:
        assert talker.connect()
        talker.publish(f"{org}/x/job", b"do-it")
    finally:
        talker.close()
    first = wire.next_publish()
    assert first is not None and first["payload"] == b"do-it" and not first["dup"]
    wire.close()  # no PUBACK
    again = Wire(broker.ports["mqtt"])
    assert again.connect("forgetful", user.username, secret, clean=False) == 0
    redelivered = again.next_publish()
    assert redelivered is not None and redelivered["payload"] == b"do-it" and redelivered["dup"]
    again.puback(redelivered["id"])
    again.disconnect()
    # Acknowledged: a third connection gets nothing more.
    third = Wire(broker.ports["mqtt"])
    assert third.connect("forgetful", user.username, secret, clean=False) == 0
    assert third.next_publish(timeout=1) is None
    third.disconnect()


def _handshake(port: int, ca: str, *, maximum=None, ciphers: str | None = None) -> str:
    """'ok', or the TLS alert the broker answered with."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(ca)
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    if maximum is not None:
        context.maximum_version = maximum
    context.set_ciphers((ciphers or "DEFAULT") + ":@SECLEVEL=0")
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname="localhost"):
                return "ok"
    except ssl.SSLError as error:
        return error.reason or str(error)


@pytest.mark.parametrize("listener", ["mqtts", "wss"])
def test_tls_is_1_2_or_newer_with_aead_suites_only(broker, listener):
    port, ca = broker.ports[listener], broker.ca
    assert _handshake(port, ca) == "ok"  # TLS 1.3
    assert (
        _handshake(port, ca, maximum=ssl.TLSVersion.TLSv1_2, ciphers="ECDHE-ECDSA-AES128-GCM-SHA256") == "ok"
    )
    assert (
        _handshake(port, ca, maximum=ssl.TLSVersion.TLSv1_2, ciphers="ECDHE-ECDSA-CHACHA20-POLY1305") == "ok"
    )
    for cbc in ("ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA"):
        refused = _handshake(port, ca, maximum=ssl.TLSVersion.TLSv1_2, ciphers=cbc)
        assert "HANDSHAKE_FAILURE" in refused.upper(), (cbc, refused)
    old = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"],
        input="",
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert "alert protocol version" in old.stderr or "no protocols available" in old.stderr, old.stderr


def test_a_token_session_ends_at_expires_at_not_before(broker, dev, org_a, settings):
    settings.TOKEN_MIN_TTL = 1
    user, _ = dev
    token, value = token_mint(org=org_a.org, user=user, ttl_seconds=2, actor=ACTOR)
    assert token.expires_at.microsecond == 0  # whole seconds, as brokers take expire_at
    client = Client(broker, user.username, value, client_id="browser", transport="wss")
    try:
        assert client.connect()
        wait_until(client.disconnected.is_set, timeout=5)
        ended = timezone.now()
    finally:
        client.close()
    lateness = (ended - token.expires_at).total_seconds()
    assert 0 <= lateness < 0.5, lateness
    wait_until(lambda: MqttSession.objects.get(client_id="browser").disconnect_reason == "token_expired")
