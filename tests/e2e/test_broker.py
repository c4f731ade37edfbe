"""End to end: the dashboard's live server, the broker process and paho-mqtt clients."""

from __future__ import annotations

import pytest

from acls.services import user_acl_save
from audit.models import AuditEvent
from audit.services import Actor
from sessions.models import MqttSession
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
    successes = AuditEvent.objects.filter(action="auth.success", details__client_id=f"c-{transport}")
    wait_until(successes.exists)  # written by the audit queue's drainer
    assert {e.details["transport"] for e in successes} == {transport}
    wait_until(lambda: MqttSession.objects.filter(client_id=f"c-{transport}", transport=transport).exists())
    session = MqttSession.objects.get(client_id=f"c-{transport}")
    assert session.peer_ip == "127.0.0.1" and session.peer_port and session.user_id == user.pk
    assert {e.peer_ip for e in successes} == {"127.0.0.1"}


def test_a_wrong_secret_is_refused_and_audited(broker, device):
    user, secret = device
    client = Client(broker, user.username, secret + "x", client_id="bad")
    try:
        assert not client.connect()
    finally:
        client.close()
    wait_until(AuditEvent.objects.filter(action="auth.failure").exists)
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
    # The kick is the claim (2 s, above); its event reaches the dashboard in the broker's next
    # events batch, later on a loaded machine (a full run once took twice its usual time).
    reason = lambda: MqttSession.objects.get(client_id="victim").disconnect_reason  # noqa: E731
    try:
        wait_until(lambda: reason() == "user_disabled", timeout=15)
    except AssertionError:
        raise AssertionError(f"disconnect_reason is {reason()!r}") from None


def test_a_token_session_is_dropped_within_2_seconds_of_its_expiry(broker, device, org_a, settings):
    from users.tokens import token_mint

    settings.TOKEN_MIN_TTL = 1
    user, _ = device
    _, token = token_mint(org=org_a.org, user=user, ttl_seconds=3, actor=ACTOR)
    client = Client(broker, user.username, token, client_id="browser", transport="wss")
    try:
        assert client.connect()
        assert not client.disconnected.wait(1.0)  # alive before expiry
        wait_until(client.disconnected.is_set, timeout=2.0 + 2.5)  # at most 2 s after expiry
    finally:
        client.close()
    wait_until(lambda: MqttSession.objects.get(client_id="browser").disconnect_reason == "token_expired")


def test_revoking_a_token_drops_only_its_session(broker, device, org_a):
    from users.models import TempToken
    from users.tokens import token_mint, token_revoke

    user, secret = device
    token, value = token_mint(org=org_a.org, user=user, actor=ACTOR)
    by_token = Client(broker, user.username, value, client_id="by-token")
    by_secret = Client(broker, user.username, secret, client_id="by-secret")
    try:
        assert by_token.connect() and by_secret.connect()
        token_revoke(token=TempToken.objects.get(pk=token.pk), actor=ACTOR)
        wait_until(by_token.disconnected.is_set, timeout=2.0)
        assert not by_secret.disconnected.wait(1.0)
    finally:
        by_token.close()
        by_secret.close()
    again = Client(broker, user.username, value, client_id="by-token-again")
    try:
        assert not again.connect()
    finally:
        again.close()


def test_an_acl_change_takes_effect_on_a_live_session_within_2_seconds(broker, device, org_a):
    user, secret = device
    org = org_a.org.id
    listener = Client(broker, user.username, secret, client_id="listener")
    talker = Client(broker, user.username, secret, client_id="talker")
    try:
        assert listener.connect() and talker.connect()
        assert listener.subscribe(f"{org}/x/#") == [1]
        user.refresh_from_db()
        user_acl_save(
            user=user,
            rules=[
                {"permission": "allow", "action": "all", "topic": "x/#"},
                {"permission": "allow", "action": "all", "topic": "z/#"},
            ],
            rule_sets=[],
            revision=user.acl_revision,
            actor=ACTOR,
        )

        def z_delivered() -> bool:
            talker.publish(f"{org}/z/now", b"z")
            return (f"{org}/z/now", b"z") in listener.messages or listener.subscribe(f"{org}/z/#") == [1]

        assert wait_until(z_delivered, timeout=2.5) <= 2.5
        assert not listener.disconnected.is_set()
    finally:
        listener.close()
        talker.close()


def test_two_orgs_with_the_same_relative_rules_never_see_each_other(broker, device, org_a, org_b):
    user_a, secret_a = device
    user_b, secret_b = user_create(org=org_b.org, name="device-1", actor=ACTOR)
    user_acl_save(
        user=user_b,
        rules=[{"permission": "allow", "action": "all", "topic": "x/#"}],
        rule_sets=[],
        revision=0,
        actor=ACTOR,
    )
    a = Client(broker, user_a.username, secret_a, client_id="a")
    b = Client(broker, user_b.username, secret_b, client_id="b")
    try:
        assert a.connect() and b.connect()
        assert a.subscribe(f"{org_a.org.id}/x/#") == [1]
        assert b.subscribe(f"{org_a.org.id}/x/#") == [128]  # another org's namespace
        assert b.subscribe(f"{org_b.org.id}/x/#") == [1]
        b.publish(f"{org_b.org.id}/x/hello", b"b")
        b.publish(f"{org_a.org.id}/x/hello", b"intruder")
        a.publish(f"{org_a.org.id}/x/hello", b"a")
        wait_until(lambda: a.messages and b.messages)
        assert a.messages == [(f"{org_a.org.id}/x/hello", b"a")]
        assert b.messages == [(f"{org_b.org.id}/x/hello", b"b")]
    finally:
        a.close()
        b.close()


def test_the_connection_quota_refuses_the_next_connection(broker, device, org_a):
    user, secret = device
    org_a.org.max_connections = 1
    org_a.org.save()
    first = Client(broker, user.username, secret, client_id="first")
    second = Client(broker, user.username, secret, client_id="second")
    try:
        assert first.connect()
        wait_until(
            lambda: MqttSession.objects.filter(client_id="first", disconnected_at__isnull=True).exists()
        )
        assert not second.connect()
    finally:
        first.close()
        second.close()
    wait_until(AuditEvent.objects.filter(action="auth.failure").exists)
    assert AuditEvent.objects.get(action="auth.failure").details["reason"] == "connection_quota"


def test_an_admins_disconnect_drops_only_that_client(broker, device, org_a, client_for):
    from django.urls import reverse

    user, secret = device
    target = Client(broker, user.username, secret, client_id="target")
    bystander = Client(broker, user.username, secret, client_id="bystander")
    try:
        assert target.connect() and bystander.connect()
        wait_until(
            lambda: MqttSession.objects.filter(client_id="target", disconnected_at__isnull=True).exists()
        )
        url = reverse("sessions:disconnect", kwargs={"org_id": org_a.org.id})
        assert client_for(org_a.admin).post(url, {"client_id": "target"}).status_code == 302
        wait_until(target.disconnected.is_set, timeout=2.0)
        assert not bystander.disconnected.wait(1.0)
    finally:
        target.close()
        bystander.close()
    # (paho reconnects by itself afterwards: a new session, which an admin may disconnect again)
    wait_until(
        lambda: MqttSession.objects.filter(client_id="target", disconnect_reason="admin_disconnect").exists()
    )


def test_the_client_page_shows_the_connect_options_and_live_subscriptions(broker, device, org_a, client_for):
    from django.urls import reverse

    user, secret = device
    org = org_a.org.id
    listener = Client(broker, user.username, secret, client_id="watcher", clean=False, keepalive=45)
    try:
        assert listener.connect()
        assert listener.subscribe(f"{org}/x/a", qos=1) == [1]
        assert listener.subscribe(f"{org}/x/b", qos=0) == [0]
        assert listener.subscribe(f"{org}/y/denied") == [128]  # refused: not a subscription
        listener.client.unsubscribe(f"{org}/x/b")
        open_session = MqttSession.objects.filter(client_id="watcher", disconnected_at__isnull=True)
        wait_until(
            lambda: list(open_session.values_list("subscriptions__topic", flat=True)) == [f"{org}/x/a"]
        )
        session = open_session.get()
        assert (session.protocol, session.keepalive, session.clean_start) == ("MQTT 3.1.1", 45, False)
        url = reverse("sessions:detail", kwargs={"org_id": org, "session_id": session.pk})
        page = client_for(org_a.admin).get(url).content.decode()
        assert f"{org}/x/a" in page and "45 seconds" in page and broker.node in page
    finally:
        listener.close()
    # A persistent session comes back with its subscriptions: the broker reports them again.
    again = Client(broker, user.username, secret, client_id="watcher", clean=False, keepalive=45)
    try:
        assert again.connect() and again.session_present
        newest = MqttSession.objects.filter(client_id="watcher").order_by("-connected_at_ms")
        wait_until(
            lambda: newest.count() == 2 and newest[0].subscriptions.filter(topic=f"{org}/x/a").exists()
        )
    finally:
        again.close()
