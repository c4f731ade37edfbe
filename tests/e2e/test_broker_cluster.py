"""Two broker nodes sharing Redis (mqemitter-redis, aedes-persistence-redis): messages,
retained messages, takeovers, client-id claims and revocations cross nodes; Sessions shows
the node."""

from __future__ import annotations

import time

import pytest
import redis
from django.conf import settings
from django.urls import reverse

from audit.services import Actor
from sessions.models import MqttSession
from users.services import user_create, user_update

from .conftest import BrokerProcess, Client, wait_until
from .mqtt_wire import Wire
from .test_broker_isolation import device

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ACTOR = Actor.system()


@pytest.fixture
def cluster(live_server, request, settings):
    """Two nodes on a Redis database of their own, emptied first."""
    from audit import writer

    from .conftest import ROOT

    settings.AUDIT_DRAIN_THREAD = True
    url = settings.REDIS_URL.rsplit("/", 1)[0] + "/13"
    redis.Redis.from_url(url).flushdb()
    nodes = [BrokerProcess(live_server.url, node=f"aedes@node{n}", redis=url) for n in (1, 2)]
    yield nodes
    writer.stop_drainer()
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    for n, node in enumerate(nodes, 1):
        (artifacts / f"broker-node{n}-{request.node.name}.log").write_text(node.stop())


@pytest.fixture
def dev(org_a):
    return device(org_a.org)


def test_a_message_published_on_one_node_reaches_a_subscriber_on_the_other(cluster, dev, org_a):
    node1, node2 = cluster
    user, secret = dev
    org = org_a.org.id
    subscriber = Client(node2, user.username, secret, client_id="sub")
    publisher = Client(node1, user.username, secret, client_id="pub")
    try:
        assert subscriber.connect() and subscriber.subscribe(f"{org}/x/#") == [1]
        assert publisher.connect()
        time.sleep(0.3)  # the subscription reaches the other node through Redis
        publisher.publish(f"{org}/x/hello", b"across")
        publisher.publish(f"{org}/x/kept", b"retained", retain=True)
        wait_until(lambda: len(subscriber.messages) == 2)
        assert subscriber.messages == [(f"{org}/x/hello", b"across"), (f"{org}/x/kept", b"retained")]
    finally:
        subscriber.close()
        publisher.close()
    late = Client(node2, user.username, secret, client_id="late")
    try:  # the retained message is shared too
        assert late.connect() and late.subscribe(f"{org}/x/kept") == [1]
        wait_until(lambda: late.messages == [(f"{org}/x/kept", b"retained")])
    finally:
        late.close()
    wait_until(
        lambda: set(MqttSession.objects.values_list("node", flat=True)) == {"aedes@node1", "aedes@node2"}
    )


def test_a_takeover_on_the_other_node_closes_the_old_connection(cluster, dev, org_a):
    node1, node2 = cluster
    user, secret = dev
    first = Client(node1, user.username, secret, client_id="roamer")
    second = Client(node2, user.username, secret, client_id="roamer")
    try:
        assert first.connect()
        assert second.connect()
        wait_until(first.disconnected.is_set)
        assert not second.disconnected.wait(0.5)
    finally:
        first.close()
        second.close()
    wait_until(
        lambda: MqttSession.objects.filter(
            client_id="roamer", node="aedes@node1", disconnect_reason="takenover"
        ).exists()
    )


def test_a_client_id_held_on_one_node_is_refused_to_another_user_on_the_other(cluster, dev, org_a, org_b):
    node1, node2 = cluster
    user, secret = dev
    other, other_secret = device(org_a.org, "device-2")
    stranger, stranger_secret = device(org_b.org, "device-9")
    holder = Client(node1, user.username, secret, client_id="sensor-1")
    try:
        assert holder.connect()
        wire = Wire(node2.ports["mqtt"])
        assert wire.connect("sensor-1", other.username, other_secret) == 2
        wire.close()
        # Another org's client may use the same id on any node.
        elsewhere = Wire(node2.ports["mqtt"])
        assert elsewhere.connect("sensor-1", stranger.username, stranger_secret) == 0
        elsewhere.disconnect()
        assert not holder.disconnected.wait(0.3)
    finally:
        holder.close()

    # Released when the holder leaves: the other user may take the id now.
    def free() -> bool:
        wire = Wire(node2.ports["mqtt"])
        code = wire.connect("sensor-1", other.username, other_secret)
        wire.close()
        return code == 0

    wait_until(free)


def test_revocations_drop_the_session_on_whichever_node_holds_it(cluster, dev, org_a, client_for):
    node1, node2 = cluster
    user, secret = dev
    on1 = Client(node1, user.username, secret, client_id="on-node-1")
    on2 = Client(node2, user.username, secret, client_id="on-node-2")
    other_user, other_secret = user_create(org=org_a.org, name="bystander", actor=ACTOR)
    bystander = Client(node2, other_user.username, other_secret, client_id="bystander")
    try:
        assert on1.connect() and on2.connect() and bystander.connect()
        wait_until(
            lambda: MqttSession.objects.filter(client_id="on-node-2", disconnected_at__isnull=True).exists()
        )
        # An admin's Disconnect of one client reaches the node that holds it.
        url = reverse("sessions:disconnect", kwargs={"org_id": org_a.org.id})
        assert client_for(org_a.admin).post(url, {"client_id": "on-node-2"}).status_code == 302
        wait_until(on2.disconnected.is_set, timeout=2)
        assert not on1.disconnected.is_set()
        # Disabling the user drops its sessions everywhere, and no one else's.
        user_update(user=user, enabled=False, actor=ACTOR)
        wait_until(on1.disconnected.is_set, timeout=2)
        assert not bystander.disconnected.wait(0.5)
    finally:
        for c in (on1, on2, bystander):
            c.close()


def test_the_sessions_page_shows_the_node(cluster, dev, org_a, client_for):
    node1, node2 = cluster
    user, secret = dev
    client = Client(node2, user.username, secret, client_id="shown")
    try:
        assert client.connect()
        wait_until(lambda: MqttSession.objects.filter(client_id="shown").exists())
    finally:
        client.close()
    page = client_for(org_a.admin).get(reverse("sessions:list", kwargs={"org_id": org_a.org.id}))
    assert 'data-testid="session-node">aedes@node2<' in page.content.decode()
    assert settings.REDIS_URL  # the cluster ran on the suite's Redis server, in its own database


def test_a_persistent_session_moves_to_the_other_node_with_its_queued_messages(cluster, dev, org_a):
    node1, node2 = cluster
    user, secret = dev
    org = org_a.org.id
    sleeper = Client(node1, user.username, secret, client_id="sleeper", clean=False)
    assert sleeper.connect() and sleeper.subscribe(f"{org}/x/inbox/#") == [1]
    sleeper.close()
    talker = Client(node2, user.username, secret, client_id="talker")
    try:
        assert talker.connect()
        for n in range(2):
            talker.publish(f"{org}/x/inbox/{n}", f"m{n}".encode())
    finally:
        talker.close()
    woken = Client(node2, user.username, secret, client_id="sleeper", clean=False)
    try:
        assert woken.connect() and woken.session_present
        wait_until(lambda: len(woken.messages) == 2)
        assert woken.messages == [(f"{org}/x/inbox/0", b"m0"), (f"{org}/x/inbox/1", b"m1")]
    finally:
        woken.close()
