"""EMQX 5.8's authorization results through its rule engine and HTTP action: a denial
(publish or subscribe) becomes the same audit event as the embedded broker's, a redelivery
of the same event is recorded once, and allows are not recorded."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from broker.tests.test_hooks import agent, hook  # noqa: F401 (fixtures)


def authz(user, **fields) -> dict:
    """``SELECT * FROM "$events/client_check_authz_complete"`` as EMQX 5.8 sends it."""
    return {
        "event": "client.check_authz_complete",
        "clientid": "emqx-dev-1",
        "username": user.username,
        "peerhost": "203.0.113.9",
        "topic": "agents/other/telemetry",
        "action": "publish",
        "authz_source": "http",
        "result": "deny",
        "timestamp": 1764700000123,
        "node": "emqx@10.0.0.2",
        "metadata": {"rule_id": "cloudsignal_events"},
        "event_id": "9b0e1f62-5c1a-4c55-8d0f-1f0e0b8e2a11",
        **fields,
    }


@pytest.mark.django_db(transaction=True)  # ids are remembered when the batch commits
def test_emqx_denials_become_acl_denial_events_and_a_redelivery_counts_once(hook, agent):  # noqa: F811
    user, _ = agent
    publish = authz(user)
    subscribe = authz(user, action="subscribe", topic="devices/+/inbox", event_id="e-2")
    allowed = authz(user, result="allow", event_id="e-3")
    first = hook("events", [publish, subscribe, allowed])
    assert first.status_code == 200
    again = hook("events", [publish])  # EMQX's action retried: the same event
    assert again.status_code == 200 and again.json().get("duplicates") == 1
    denials = AuditEvent.objects.filter(action="mqtt.acl_denied").order_by("seq")
    assert [(e.details["action"], e.details["topic"], e.details["source"]) for e in denials] == [
        ("publish", "agents/other/telemetry", "http"),
        ("subscribe", "devices/+/inbox", "http"),
    ]
    assert {str(e.peer_ip) for e in denials} == {"203.0.113.9"}
    # The same denial again, a new event (the device tried again): recorded.
    hook("events", [authz(user, event_id="e-4")])
    assert AuditEvent.objects.filter(action="mqtt.acl_denied").count() == 3


@pytest.mark.django_db
def test_a_burst_of_identical_denials_without_an_event_id_is_each_recorded(hook, agent):  # noqa: F811
    """The embedded broker sends no event_id: denials in the same millisecond are a burst,
    not a resend (counting them once hid a device hammering a denied topic)."""
    user, _ = agent
    same = {k: v for k, v in authz(user).items() if k != "event_id"}
    hook("events", [same, same, same])
    assert AuditEvent.objects.filter(action="mqtt.acl_denied").count() == 3


@pytest.mark.django_db(transaction=True)
def test_an_event_in_a_batch_that_failed_is_recorded_when_emqx_resends_it(hook, agent, monkeypatch):  # noqa: F811
    """A batch the database refused is not remembered: its resend is recorded, not dropped."""
    from audit import chain

    user, _ = agent
    real = chain.append

    def refuse(events, **kwargs):
        raise RuntimeError("the database refused the batch")

    monkeypatch.setattr(chain, "append", refuse)
    with pytest.raises(RuntimeError):
        hook("events", [authz(user, event_id="resent-1")])
    monkeypatch.setattr(chain, "append", real)
    assert hook("events", [authz(user, event_id="resent-1")]).status_code == 200
    assert AuditEvent.objects.filter(action="mqtt.acl_denied").count() == 1
    assert hook("events", [authz(user, event_id="resent-1")]).json().get("duplicates") == 1
