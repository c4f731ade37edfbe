"""Broker events (EMQX webhook field names) into MQTT sessions and audit events.

A batch is written in one transaction. Events may repeat or arrive out of order: a
connection is identified by (node, clientid, connected_at), so a repeat finds its row and
a disconnect that overtakes its connect creates the row already closed.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import transaction

from audit.models import ActorType, MqttSession, Outcome, Transport
from audit.services import Actor, Subject, record_event
from users.models import MqttUser

from .authn import USERNAME

HANDLED = {
    "client.connected",
    "client.disconnected",
    "client.connack",
    "client.check_authz_complete",
    "session.subscribed",
}


class BadEvent(ValueError):
    """An event that cannot be recorded; the message says which and why."""


def _ms(value, what: str) -> int:
    try:
        ms = int(value)
    except (TypeError, ValueError):
        raise BadEvent(f"{what} must be milliseconds since the epoch, not {value!r}.") from None
    if not 0 < ms < 10**14:
        raise BadEvent(f"{what} is out of range: {ms}.")
    return ms


def _when(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _peer(peername: str) -> tuple[str | None, int | None]:
    """'ip:port' or '[v6]:port' → (ip, port)."""
    import ipaddress

    host, _, port = (peername or "").rpartition(":")
    host = host.strip("[]")
    try:
        return str(ipaddress.ip_address(host)), int(port)
    except ValueError:
        return None, None


def _transport(event: dict) -> str:
    value = str(event.get("transport") or event.get("protocol") or "").lower()
    return value if value in Transport.values else ""


def _user(event: dict) -> tuple[MqttUser | None, str | None]:
    match = USERNAME.fullmatch(str(event.get("username") or ""))
    if match is None:
        return None, None
    user = MqttUser.objects.filter(org_id=match["org"], name=match["name"]).first()
    return user, match["org"]


@transaction.atomic
def ingest(events: list[dict]) -> dict:
    """Record a batch; returns counts. Raises BadEvent (nothing written) for a malformed one."""
    counts = {"recorded": 0, "ignored": 0}
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            raise BadEvent(f"Event {index} is not an object.")
        kind = str(event.get("event") or "")
        if kind not in HANDLED:
            counts["ignored"] += 1
            continue
        try:
            recorded = _HANDLERS[kind](event)
        except BadEvent as error:
            raise BadEvent(f"Event {index} ({kind}): {error}") from None
        counts["recorded" if recorded else "ignored"] += 1
    return counts


def _session_fields(event: dict) -> dict:
    user, org_id = _user(event)
    if org_id is None:
        raise BadEvent("username must be name@org_id.")
    ip, port = _peer(str(event.get("peername") or ""))
    password = str(event.get("token_id") or "")
    return {
        "org_id": org_id,
        "user": user,
        "username": str(event.get("username"))[:100],
        "token_id": password[:32],
        "peer_ip": ip,
        "peer_port": port,
        "transport": _transport(event),
        "proto_ver": str(event.get("proto_ver") or "")[:8],
    }


def _identity(event: dict) -> dict:
    client_id = str(event.get("clientid") or "")
    if not client_id:
        raise BadEvent("clientid is required.")
    ms = _ms(event.get("connected_at"), "connected_at")
    return {"node": str(event.get("node") or "")[:128], "client_id": client_id[:256], "connected_at_ms": ms}


def _connected(event: dict) -> bool:
    identity = _identity(event)
    fields = _session_fields(event)
    if not _org_exists(fields["org_id"]):
        return False
    MqttSession.objects.get_or_create(
        **identity, defaults={**fields, "connected_at": _when(identity["connected_at_ms"])}
    )
    return True


def _disconnected(event: dict) -> bool:
    identity = _identity(event)
    fields = _session_fields(event)
    if not _org_exists(fields["org_id"]):
        return False
    at = _when(_ms(event.get("disconnected_at") or event.get("timestamp"), "disconnected_at"))
    reason = str(event.get("reason") or "")[:64]
    session, created = MqttSession.objects.get_or_create(
        **identity,
        defaults={
            **fields,
            "connected_at": _when(identity["connected_at_ms"]),
            "disconnected_at": at,
            "disconnect_reason": reason,
        },
    )
    if not created and session.disconnected_at is None:
        session.disconnected_at, session.disconnect_reason = at, reason
        session.save(update_fields=["disconnected_at", "disconnect_reason"])
    return True


def _audit_failure(event: dict, action: str, details: dict) -> bool:
    """Record a refusal the broker reports, in the audit log of the username's org."""
    user, org_id = _user(event)
    if org_id is None or not _org_exists(org_id):
        return False
    ip, _ = _peer(str(event.get("peername") or ""))
    label = str(event.get("username"))[:254]
    record_event(
        _org(org_id),
        action,
        actor=Actor(ActorType.MQTT_USER, user.pk if user else "", label),
        subject=Subject("mqtt_user", user.pk if user else "", label),
        peer_ip=ip,
        outcome=Outcome.FAILURE,
        details={**details, "client_id": str(event.get("clientid") or "")[:256]},
    )
    return True


def _connack(event: dict) -> bool:
    reason_code = str(event.get("reason_code") or "")
    if reason_code in ("", "success", "0"):
        return False
    return _audit_failure(event, "mqtt.connect_refused", {"reason_code": reason_code[:64]})


def _authz(event: dict) -> bool:
    if str(event.get("result") or "") != "deny":
        return False
    details = {"action": str(event.get("action") or "")[:16], "topic": str(event.get("topic") or "")[:1024]}
    return _audit_failure(event, "mqtt.acl_denied", details)


def _subscribed(event: dict) -> bool:
    return False  # accepted for EMQX compatibility; subscriptions are not recorded yet


def _org(org_id: str):
    from orgs.models import Organization

    return Organization.objects.get(pk=org_id)


def _org_exists(org_id: str) -> bool:
    from orgs.models import Organization

    return Organization.objects.filter(pk=org_id).exists()


_HANDLERS = {
    "client.connected": _connected,
    "client.disconnected": _disconnected,
    "client.connack": _connack,
    "client.check_authz_complete": _authz,
    "session.subscribed": _subscribed,
}
