"""The broker contract (DESIGN §6) with the request shapes EMQX 5 sends."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from acls.services import rule_set_create, rule_set_save, user_acl_save
from audit.models import AuditEvent
from audit.services import Actor
from broker import events
from sessions.models import LiveConnections, MqttSession, Revocation, Subscription
from users.models import MqttUser, TempToken
from users.services import user_create, user_rotate_secret, user_update
from users.tokens import token_mint, token_revoke

ACTOR = Actor.system()


@pytest.fixture
def hook(client, settings):
    def call(
        path: str, body=None, *, secret: str | None = None, method: str = "post", raw: bytes | None = None
    ):
        headers = {
            "HTTP_AUTHORIZATION": f"Bearer {secret if secret is not None else settings.BROKER_HOOK_SECRET}"
        }
        if method == "get":
            return client.get(f"/broker/v1/{path}", **headers)
        data = raw if raw is not None else json.dumps(body)
        return client.post(f"/broker/v1/{path}", data, content_type="application/json", **headers)

    return call


@pytest.fixture
def agent(org_a):
    from users.services import user_create

    user, secret = user_create(org=org_a.org, name="agent-01", actor=ACTOR)
    user_acl_save(
        user=user,
        rules=[
            {"permission": "allow", "action": "publish", "topic": "agents/%u/#"},
            {"permission": "allow", "action": "subscribe", "topic": "devices/%c/inbox"},
        ],
        rule_sets=[],
        revision=0,
        actor=ACTOR,
    )
    user.refresh_from_db()
    return user, secret


def _authn(hook, username, password, **extra):
    body = {
        "username": username,
        "password": password,
        "clientid": "c-1",
        "peerhost": "203.0.113.7",
        "transport": "mqtts",
        "proto_ver": "4",
        **extra,
    }
    response = hook("authn", body)
    assert response.status_code == 200
    return response.json()


def test_every_endpoint_requires_the_hook_secret(hook):
    for path in ("authn", "authz", "events"):
        assert hook(path, {}, secret="wrong").status_code == 401
        assert hook(path, {}, secret="").status_code == 401
    assert hook("revocations", method="get", secret="nope").status_code == 401


def test_a_secret_authenticates_with_the_compiled_acl(hook, agent, org_a, audit_queue):
    user, secret = agent
    answer = _authn(hook, user.username, secret)
    org = org_a.org.id
    assert answer == {
        "result": "allow",
        "is_superuser": False,
        "client_attrs": {"org": org},
        "acl": [
            {"permission": "allow", "action": "publish", "topic": f"{org}/agents/agent-01/#"},
            {"permission": "allow", "action": "subscribe", "topic": f"{org}/devices/c-1/inbox"},
            {"permission": "deny", "action": "all", "topic": "#"},
        ],
    }
    assert not AuditEvent.objects.filter(action="auth.success").exists()  # queued, not yet written
    assert audit_queue.drain_all() == 1
    event = AuditEvent.objects.get(action="auth.success")
    assert (event.peer_ip, event.details["client_id"], event.details["transport"]) == (
        "203.0.113.7",
        "c-1",
        "mqtts",
    )
    assert MqttUser.objects.get(pk=user.pk).last_seen_at is not None
    assert secret not in json.dumps(list(AuditEvent.objects.values("details")))


def test_a_client_id_with_a_wildcard_gets_no_rule_from_its_placeholder(hook, agent):
    user, secret = agent
    answer = _authn(hook, user.username, secret, clientid="evil/#")
    assert [r["topic"].split("/", 1)[1] for r in answer["acl"][:-1]] == ["agents/agent-01/#"]


def test_a_token_authenticates_with_expire_at(hook, agent, org_a):
    user, _ = agent
    token, value = token_mint(org=org_a.org, user=user, ttl_seconds=600, actor=ACTOR)
    answer = _authn(hook, user.username, value)
    assert answer["result"] == "allow"
    assert answer["expire_at"] == int(token.expires_at.timestamp())
    assert token.expires_at.microsecond == 0  # a whole second: expire_at is exact
    assert time.time() < answer["expire_at"] < time.time() + 602


@pytest.mark.parametrize(
    "case, reason",
    [
        ("wrong_secret", "bad_secret"),
        ("other_org_suffix", "unknown_user"),
        ("disabled", "user_disabled"),
        ("expired_token", "token_expired"),
        ("revoked_token", "token_revoked"),
        ("unknown_org", None),
        ("garbage", None),
        ("another_users_token", "bad_token"),
        ("quota", "connection_quota"),
        ("control_in_client_id", "bad_client_id"),
    ],
)
def test_refusals_say_deny_and_audit_the_reason(hook, agent, org_a, org_b, case, reason, audit_queue):
    user, secret = agent
    username, password = user.username, secret
    if case == "wrong_secret":
        password = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    elif case == "other_org_suffix":
        username = f"agent-01@{org_b.org.id}"
    elif case == "disabled":
        user_update(user=user, enabled=False, actor=ACTOR)
    elif case in ("expired_token", "revoked_token"):
        token, password = token_mint(org=org_a.org, user=user, actor=ACTOR)
        if case == "expired_token":
            TempToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        else:
            token_revoke(token=token, actor=ACTOR)
    elif case == "unknown_org":
        username = "agent-01@org_aaaaaaaaaaaa"
    elif case == "garbage":
        username = "no-at-sign"
    elif case == "another_users_token":
        from users.services import user_create

        other = user_create(org=org_a.org, name="other", actor=ACTOR)[0]
        password = token_mint(org=org_a.org, user=other, actor=ACTOR)[1]
    elif case == "quota":
        org_a.org.max_connections = 1
        org_a.org.save()
        events.ingest(
            [{"event": "client.connected", "clientid": "x", "username": username, "connected_at": 1}]
        )
    extra = {"clientid": "c\x00-\x1b[1m"} if case == "control_in_client_id" else {}
    assert _authn(hook, username, password, **extra) == {"result": "deny"}
    audit_queue.drain_all()
    failures = AuditEvent.objects.filter(action="auth.failure")
    if extra:
        assert failures.get().details["client_id"] == "c\\x00-\\x1b[1m"  # shown, storable
    if reason is None:
        assert not failures.exists()  # no org of ours to audit it in
    else:
        assert failures.get().details["reason"] == reason


def test_a_reauthentication_of_a_live_connection_is_not_refused_by_the_quota(hook, agent, org_a):
    user, secret = agent
    org_a.org.max_connections = 1
    org_a.org.save()
    events.ingest([_connected(user)])  # the connection itself: the org is at its quota
    assert _authn(hook, user.username, secret) == {"result": "deny"}
    assert _authn(hook, user.username, secret, reauth=True)["result"] == "allow"
    assert _authn(hook, user.username, secret, reauth="true") == {"result": "deny"}  # only a JSON true


def test_emqx_default_body_and_string_placeholders_are_accepted(hook, agent):
    user, secret = agent
    response = hook("authn", {"username": user.username, "password": secret})
    assert response.json()["result"] == "allow"
    assert hook("authn", {"username": 12, "password": None}).json() == {"result": "deny"}


def test_bad_bodies_are_4xx_with_a_detail(hook):
    assert hook("authn", raw=b"\xff\xfe").status_code == 400
    assert hook("authn", raw=b"[1]").status_code == 400
    assert hook("events", raw=b"{nope").json()["detail"] == "The body must be JSON (UTF-8)."


def test_authz_fallback_decides_relative_to_the_org(hook, agent, org_a):
    user, _ = agent
    org = org_a.org.id

    def ask(topic: str, action: str) -> str:
        body = {"username": user.username, "clientid": "c-1", "topic": topic, "action": action}
        return hook("authz", body).json()["result"]

    assert ask(f"{org}/agents/agent-01/t", "publish") == "allow"
    assert ask(f"{org}/agents/agent-02/t", "publish") == "deny"
    assert ask(f"{org}/devices/c-1/inbox", "subscribe") == "allow"
    assert ask("agents/agent-01/t", "publish") == "deny"  # outside the namespace
    assert ask(f"{org}/agents/agent-01/t", "connect") == "deny"


def test_acl_changes_reach_authz_through_the_cache(hook, agent, org_a, django_capture_on_commit_callbacks):
    user, _ = agent
    org = org_a.org.id
    rule_set = rule_set_create(org=org_a.org, name="ops", actor=ACTOR)
    user_acl_save(user=user, rules=[], rule_sets=["ops"], revision=1, actor=ACTOR)
    body = {"username": user.username, "clientid": "c", "topic": f"{org}/ops/x", "action": "publish"}
    assert hook("authz", body).json()["result"] == "deny"
    with django_capture_on_commit_callbacks(execute=True):
        rule_set_save(
            rule_set=rule_set,
            rules=[{"permission": "allow", "action": "all", "topic": "ops/#"}],
            revision=0,
            actor=ACTOR,
        )
    assert hook("authz", body).json()["result"] == "allow"


def _connected(user, *, ms=1_700_000_000_000, **extra):
    return {
        "event": "client.connected",
        "clientid": "c-1",
        "username": user.username,
        "peername": "198.51.100.4:51234",
        "sockname": "0.0.0.0:8883",
        "proto_ver": "4",
        "connected_at": ms,
        "node": "emqx@n1",
        "timestamp": ms,
        **extra,
    }


def test_events_open_and_close_sessions_idempotently_and_out_of_order(hook, agent):
    user, _ = agent
    connected = _connected(user, transport="mqtts")
    disconnected = {
        **connected,
        "event": "client.disconnected",
        "reason": "normal",
        "disconnected_at": 1_700_000_060_000,
    }
    assert hook("events", [disconnected, connected, connected]).status_code == 200
    session = MqttSession.objects.get()
    assert (session.peer_ip, session.peer_port, session.transport, session.disconnect_reason) == (
        "198.51.100.4",
        51234,
        "mqtts",
        "normal",
    )
    assert (session.disconnected_at - session.connected_at).total_seconds() == 60
    hook("events", connected)
    assert MqttSession.objects.count() == 1 and MqttSession.objects.get().disconnected_at is not None


def _live(org) -> int:
    return LiveConnections.objects.filter(org=org).values_list("live", flat=True).first() or 0


def test_the_live_count_follows_opens_closes_repeats_and_overtaking_closes(hook, agent, org_a, org_b):
    user, _ = agent
    other = user_create(org=org_b.org, name="agent-b", actor=ACTOR)[0]
    first, second = _connected(user, clientid="c-1"), _connected(user, clientid="c-2")
    closed_first = {**first, "event": "client.disconnected", "disconnected_at": first["connected_at"] + 1}
    hook("events", [first, second, first, _connected(other, clientid="b-1")])
    assert (_live(org_a.org), _live(org_b.org)) == (2, 1)
    hook("events", [closed_first, closed_first])  # a repeated close counts once
    assert (_live(org_a.org), _live(org_b.org)) == (1, 1)
    # A close that overtook its open: the session is recorded closed and never counted.
    late = _connected(user, clientid="c-3")
    hook("events", [{**late, "event": "client.disconnected", "disconnected_at": late["connected_at"] + 1}])
    hook("events", [late])
    assert _live(org_a.org) == 1 == MqttSession.objects.filter(org=org_a.org, disconnected_at=None).count()


def test_a_bad_event_rejects_the_whole_batch(hook, agent):
    user, _ = agent
    response = hook(
        "events",
        [
            _connected(user),
            {"event": "client.connected", "clientid": "x", "username": user.username, "connected_at": "soon"},
        ],
    )
    assert response.status_code == 422 and "Event 1 (client.connected)" in response.json()["detail"]
    assert not MqttSession.objects.exists()


def test_a_connection_keeps_what_its_connect_asked_for_and_what_it_subscribed_to(hook, agent):
    user, _ = agent
    connected = _connected(user, proto_ver="5", keepalive=30, clean_start=False, expiry_interval=3600)
    on = {**connected, "event": "session.subscribed"}
    hook(
        "events",
        [
            connected,
            {**on, "topic": "devices/c-1/inbox", "qos": 1, "timestamp": connected["timestamp"] + 1},
            {**on, "topic": "agents/x", "qos": 0},
            {**on, "event": "session.unsubscribed", "topic": "agents/x"},
            {**on, "topic": "devices/c-1/inbox", "qos": 2},  # a re-subscribe changes its QoS
        ],
    )
    session = MqttSession.objects.get()
    assert (session.protocol, session.keepalive, session.clean_start, session.expiry_interval) == (
        "MQTT 5.0",
        30,
        False,
        3600,
    )
    assert list(session.subscriptions.values_list("topic", "qos")) == [("devices/c-1/inbox", 2)]
    # EMQX's events name the connection by node and client id only: the open one gets them.
    emqx = {k: v for k, v in on.items() if k != "connected_at"}
    hook("events", [{**emqx, "topic": "agents/y", "qos": 1}, {**emqx, "topic": "x", "clientid": "gone"}])
    assert sorted(session.subscriptions.values_list("topic", flat=True)) == ["agents/y", "devices/c-1/inbox"]
    hook("events", [{**on, "topic": "agents/y", "qos": 1}])  # a repeat changes nothing
    assert Subscription.objects.count() == 2


@pytest.mark.parametrize(
    "bad",
    [
        {"keepalive": -1},
        {"keepalive": "30"},
        {"keepalive": 70000},
        {"clean_start": "yes"},
        {"expiry_interval": 2**32},
    ],
)
def test_connect_options_out_of_range_reject_the_batch_with_their_name(hook, agent, bad):
    user, _ = agent
    response = hook("events", [_connected(user, **bad)])
    assert response.status_code == 422 and next(iter(bad)) in response.json()["detail"]
    assert not MqttSession.objects.exists()


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"topic": ""}, "topic are required"),
        ({"topic": "a\x07b"}, "control character"),
        ({"topic": "a" * 1025}, "1024"),
        ({"qos": 3}, "qos must be"),
        ({"qos": True}, "qos must be"),
    ],
)
def test_a_subscription_event_that_cannot_be_kept_is_refused(hook, agent, change, words):
    user, _ = agent
    connected = _connected(user)
    subscribed = {**connected, "event": "session.subscribed", "topic": "a/b", "qos": 0, **change}
    response = hook("events", [connected, subscribed])
    assert response.status_code == 422 and words in response.json()["detail"]
    assert not MqttSession.objects.exists() and not Subscription.objects.exists()


def test_refused_connects_and_acl_denials_are_audited(hook, agent):
    user, _ = agent
    hook(
        "events",
        [
            {
                "event": "client.connack",
                "clientid": "c-1",
                "username": user.username,
                "peername": "198.51.100.4:1",
                "reason_code": "not_authorized",
            },
            {
                "event": "client.check_authz_complete",
                "clientid": "c-1",
                "username": user.username,
                "topic": "x/y",
                "action": "publish",
                "result": "deny",
            },
            {"event": "message.publish", "topic": "ignored"},
        ],
    )
    assert set(AuditEvent.objects.filter(outcome="failure").values_list("action", flat=True)) == {
        "mqtt.connect_refused",
        "mqtt.acl_denied",
    }


def test_a_denial_says_how_many_the_broker_left_out_before_it(hook, agent):
    user, _ = agent
    denial = {
        "event": "client.check_authz_complete",
        "clientid": "c",
        "username": user.username,
        "topic": "x",
        "action": "publish",
        "result": "deny",
    }
    hook("events", [{**denial, "suppressed": 40}, {**denial, "suppressed": "lots"}, denial])
    denials = AuditEvent.objects.filter(action="mqtt.acl_denied").order_by("seq")
    assert [e.details.get("suppressed") for e in denials] == [40, None, None]


def test_control_characters_never_reach_the_database(hook, agent):
    user, _ = agent
    refused = hook("events", [_connected(user, clientid="a\x00b")])
    assert refused.status_code == 422 and "control character" in refused.json()["detail"]
    assert not MqttSession.objects.exists()
    denial = {
        "event": "client.check_authz_complete",
        "clientid": "c\x07",
        "username": user.username,
        "topic": "x/\x00",
        "action": "publish",
        "result": "deny",
    }
    assert hook("events", [denial]).status_code == 200
    details = AuditEvent.objects.get(action="mqtt.acl_denied").details
    assert (details["client_id"], details["topic"]) == ("c\\x07", "x/\\x00")


def test_the_revocation_feed_is_a_cursor(hook, agent, org_a):
    user, _ = agent
    start = hook("revocations", method="get").json()
    assert start["revocations"] == []
    user_update(user=user, enabled=False, actor=ACTOR)
    user_rotate_secret(user=user, grace_seconds=0, actor=ACTOR)
    feed = hook(f"revocations?after={start['cursor']}", method="get").json()
    assert [(r["kind"], r["reason"]) for r in feed["revocations"]] == [
        ("disconnect", "user_disabled"),
        ("disconnect", "secret_rotated"),
    ]
    assert feed["cursor"] == Revocation.objects.order_by("-id").first().id
    assert set(feed["revocations"][0]) == {
        "id",
        "kind",
        "org",
        "username",
        "token_id",
        "client_id",
        "reason",
        "at",
    }
    assert hook(f"revocations?after={feed['cursor']}", method="get").json()["revocations"] == []
    assert hook("revocations?after=abc", method="get").status_code == 400


def test_concurrent_batches_leave_the_live_count_exact(transactional_db):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    from conftest import make_org

    org = make_org("Concurrent", "cc").org
    user = user_create(org=org, name="agent-cc", actor=ACTOR)[0]

    def post(start: int) -> None:
        try:
            for n in range(start, start + 40, 4):  # each batch opens 4 sessions and closes 1
                batch = [_connected(user, clientid=f"c-{n + i}") for i in range(4)]
                batch.append(
                    {**batch[0], "event": "client.disconnected", "disconnected_at": batch[0]["connected_at"]}
                )
                events.ingest(batch)
        finally:
            connection.close()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(post, [0, 1000, 2000, 3000]))
    assert _live(org) == 4 * 10 * 3 == MqttSession.objects.filter(org=org, disconnected_at=None).count()
