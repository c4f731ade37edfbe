"""Broker events (EMQX webhook field names) into MQTT sessions and audit events.

A batch is written in one transaction with a few statements whatever its size. Events may
repeat or arrive out of order: a connection is identified by (node, clientid,
connected_at), so a repeat finds its row and a disconnect that overtakes its connect
creates the row already closed.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from functools import reduce
from operator import or_

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, Q

from audit import chain
from audit.models import Action, ActorType, Outcome, SubjectType
from audit.services import Actor, Subject, build_event
from core.client_ip import normal_ip
from core.text import CONTROL, shown
from orgs.models import Organization
from sessions.models import LiveConnections, MqttSession, Subscription, Transport
from users.models import MqttUser

from .authn import USERNAME

HANDLED = {
    "client.connected",
    "client.disconnected",
    "client.connack",
    "client.check_authz_complete",
    "session.subscribed",
    "session.unsubscribed",
}
SUBSCRIPTION_EVENTS = ("session.subscribed", "session.unsubscribed")


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


def _username(event: dict) -> tuple[str, str] | None:
    """(org id, name) of the event's username, or None when it is not ``name@org_id``."""
    match = USERNAME.fullmatch(str(event.get("username") or ""))
    return (match["org"], match["name"]) if match else None


class _Batch:
    """One POST of events, parsed first (a bad event rejects the batch before any write),
    then written with a handful of statements whatever its size: orgs and users resolved
    in one query each, sessions inserted in bulk, closes in one statement, audit events
    appended to their chains at once."""

    def __init__(self) -> None:
        self.opened: dict[tuple, dict] = {}
        self.closed: dict[tuple, tuple[datetime, str]] = {}
        self.refusals: list[tuple[dict, str, dict]] = []
        # (node, client id, connected_at ms or None, topic) → (qos, at) subscribed or None unsubscribed;
        # the last event on a filter wins, in the order the broker sent them.
        self.subscriptions: dict[tuple, tuple[int, datetime] | None] = {}
        self.names: set[tuple[str, str]] = set()
        self.session_orgs: list[str] = []  # the org of each session event, for the counts
        self.counts = {"recorded": 0, "ignored": 0}

    def add(self, kind: str, event: dict) -> None:
        if kind in ("client.connected", "client.disconnected"):
            identity = _identity(event)
            fields = _session_fields(event)
            self.names.add((fields["org_id"], fields["name"]))
            self.session_orgs.append(fields["org_id"])
            if kind == "client.connected":
                self.opened.setdefault(identity, fields)
            else:
                at = _when(_ms(event.get("disconnected_at") or event.get("timestamp"), "disconnected_at"))
                self.closed.setdefault(identity, (at, str(event.get("reason") or "")[:64]))
                self.opened.setdefault(identity, fields)
        elif kind == "client.connack":
            reason_code = str(event.get("reason_code") or "")
            if reason_code in ("", "success", "0"):
                self.counts["ignored"] += 1
                return
            self._refusal(event, Action.MQTT_CONNECT_REFUSED, {"reason_code": reason_code[:64]})
        elif kind == "client.check_authz_complete":
            if str(event.get("result") or "") != "deny":
                self.counts["ignored"] += 1
                return
            details = {
                "action": str(event.get("action") or "")[:16],
                "topic": shown(str(event.get("topic") or ""))[:1024],
            }
            source = str(event.get("authz_source") or "")
            if source:  # EMQX: which authorizer decided (http, cache, client_info, ...)
                details["source"] = shown(source)[:64]
            suppressed = event.get("suppressed")
            if isinstance(suppressed, int) and not isinstance(suppressed, bool) and suppressed > 0:
                # Denials of this connection the broker counted instead of sending one by one.
                details["suppressed"] = suppressed
            self._refusal(event, Action.MQTT_ACL_DENIED, details)
        else:
            self._subscription(kind, event)

    def _subscription(self, kind: str, event: dict) -> None:
        client_id = str(event.get("clientid") or "")[:256]
        topic = str(event.get("topic") or "")
        if not client_id or not topic:
            raise BadEvent("clientid and topic are required.")
        if CONTROL.search(topic) or len(topic) > 1024:
            raise BadEvent("topic holds a control character or is longer than 1024 characters.")
        # EMQX names the connection by node and client id only; ours adds connected_at.
        connected = event.get("connected_at")
        ms = None if connected in (None, "") else _ms(connected, "connected_at")
        key = (str(event.get("node") or "")[:128], client_id, ms, topic)
        if kind == "session.unsubscribed":
            self.subscriptions[key] = None
            return
        qos = event.get("qos", 0)
        if isinstance(qos, bool) or qos not in (0, 1, 2):
            raise BadEvent(f"qos must be 0, 1 or 2, not {qos!r}.")
        self.subscriptions.pop(key, None)  # re-inserted last: it is the newest word on this filter
        self.subscriptions[key] = (qos, _when(_ms(event.get("timestamp"), "timestamp")))

    def _refusal(self, event: dict, action: str, details: dict) -> None:
        name = _username(event)
        if name is None:
            self.counts["ignored"] += 1
            return
        self.names.add(name)
        self.refusals.append(
            (event, action, {**details, "client_id": shown(str(event.get("clientid") or ""))[:256]})
        )

    def write(self) -> dict:
        orgs = set(
            Organization.objects.filter(pk__in={o for o, _ in self.names}).values_list("pk", flat=True)
        )
        users = {
            (u.org_id, u.name): u
            for u in MqttUser.objects.filter(org_id__in=orgs, name__in={n for _, n in self.names})
        }
        self._write_sessions(orgs, users)
        self._write_subscriptions()
        self._write_refusals(orgs, users)
        return self.counts

    def _write_sessions(self, orgs: set[str], users: dict) -> None:
        rows = []
        for identity, fields in self.opened.items():
            if fields["org_id"] not in orgs:  # no org of ours: nowhere to record it
                continue
            node, client_id, ms = identity
            closed_at, reason = self.closed.get(identity, (None, ""))
            rows.append(
                MqttSession(
                    node=node,
                    client_id=client_id,
                    connected_at_ms=ms,
                    connected_at=_when(ms),
                    disconnected_at=closed_at,
                    disconnect_reason=reason,
                    user=users.get((fields["org_id"], fields["name"])),
                    **{k: v for k, v in fields.items() if k != "name"},
                )
            )
        known = sum(1 for org_id in self.session_orgs if org_id in orgs)
        self.counts["recorded"] += known
        self.counts["ignored"] += len(self.session_orgs) - known
        # A repeat finds its row already there; a close that overtook its open made it closed.
        MqttSession.objects.bulk_create(rows, ignore_conflicts=True)
        closes = [
            (identity, at, reason)
            for identity, (at, reason) in self.closed.items()
            if self.opened[identity]["org_id"] in orgs
        ]
        _close_sessions(closes)
        _recount_live(sorted({fields["org_id"] for fields in self.opened.values()} & orgs))

    def _write_subscriptions(self) -> None:
        """Upsert and delete the batch's subscriptions on their sessions (found in one query:
        the exact connection when the event names it, else the open one of that client)."""
        if not self.subscriptions:
            return
        candidates = MqttSession.objects.filter(
            client_id__in={client for _, client, _, _ in self.subscriptions},
            node__in={node for node, _, _, _ in self.subscriptions},
        ).only("pk", "node", "client_id", "connected_at_ms", "disconnected_at")
        exact, open_now = {}, {}
        for session in candidates:
            exact[(session.node, session.client_id, session.connected_at_ms)] = session.pk
            if session.disconnected_at is None:
                open_now[(session.node, session.client_id)] = session.pk
        upserts, deletes = {}, []
        for (node, client_id, ms, topic), value in self.subscriptions.items():
            session_id = exact.get((node, client_id, ms)) if ms else open_now.get((node, client_id))
            if session_id is None:  # a connection we do not know (another platform's, or purged)
                self.counts["ignored"] += 1
                continue
            self.counts["recorded"] += 1
            if value is None:
                upserts.pop((session_id, topic), None)
                deletes.append((session_id, topic))
            else:
                upserts[(session_id, topic)] = Subscription(
                    session_id=session_id, topic=topic, qos=value[0], subscribed_at=value[1]
                )
        gone = [pair for pair in deletes if pair not in upserts]
        if gone:  # one statement for the batch's unsubscribes
            Subscription.objects.filter(
                reduce(or_, (Q(session_id=session_id, topic=topic) for session_id, topic in gone))
            ).delete()
        Subscription.objects.bulk_create(
            list(upserts.values()),
            update_conflicts=True,
            unique_fields=["session", "topic"],
            update_fields=["qos", "subscribed_at"],
        )

    def _write_refusals(self, orgs: set[str], users: dict) -> None:
        audit, seen = [], set()
        for event, action, details in self.refusals:
            org_id, name = _username(event)
            if org_id not in orgs:
                self.counts["ignored"] += 1
                continue
            if _seen_before(event, seen):
                self.counts["duplicates"] = self.counts.get("duplicates", 0) + 1
                continue
            user = users.get((org_id, name))
            ip = _peer(str(event.get("peername") or ""))[0] or normal_ip(str(event.get("peerhost") or ""))
            label = str(event.get("username"))[:254]
            audit.append(
                build_event(
                    org_id,
                    action,
                    actor=Actor(ActorType.MQTT_USER, user.pk if user else "", label),
                    subject=Subject(SubjectType.MQTT_USER, user.pk if user else "", label),
                    peer_ip=ip,
                    outcome=Outcome.FAILURE,
                    details=details,
                )
            )
            self.counts["recorded"] += 1
        chain.append(audit)
        if seen:  # remembered once they are in the database, not before (a failed batch is resent)
            keys = dict.fromkeys(seen, 1)
            transaction.on_commit(lambda: cache.set_many(keys, REFUSAL_MEMORY))


REFUSAL_MEMORY = 3600  # seconds a refusal's identity is remembered (EMQX retries well within)


def _seen_before(event: dict, seen: set[str]) -> bool:
    """Whether this very refusal was recorded already: EMQX's HTTP action resends an event
    whose answer was slow or failed. An event is known by the ``event_id`` the rule gives it
    (``uuid_v4()``, rendered once, so a resend carries the same); one without (the embedded
    broker's) is always new: a burst of identical denials in one millisecond is a burst.
    ``seen`` collects this batch's ids (remembered when the batch commits)."""
    event_id = str(event.get("event_id") or "")
    if not event_id:
        return False
    key = "broker:refusal:" + hashlib.sha256(event_id.encode()).hexdigest()
    if key in seen or cache.get(key) is not None:
        return True
    seen.add(key)
    return False


def _recount_live(org_ids: list[str]) -> None:
    """Recount the orgs' open sessions after a batch wrote them: exact whatever the events'
    order or repeats, and once per batch rather than once per CONNECT.

    The orgs' counts are locked first (in id order: no two batches wait on each other in a
    cycle) and held to the commit; the count then runs with a snapshot taken after the
    lock, so it sees every batch that recounted before, and a batch writing meanwhile
    recounts after this one commits. Batches of one org overlap except for this step.
    """
    if not org_ids:
        return
    LiveConnections.objects.bulk_create([LiveConnections(org_id=o) for o in org_ids], ignore_conflicts=True)
    list(LiveConnections.objects.select_for_update().filter(org_id__in=org_ids).order_by("org_id"))
    counts = dict(
        MqttSession.objects.filter(org_id__in=org_ids, disconnected_at__isnull=True)
        .values("org_id")
        .annotate(n=Count("id"))
        .values_list("org_id", "n")
    )
    LiveConnections.objects.bulk_update(
        [LiveConnections(org_id=o, live=counts.get(o, 0)) for o in org_ids], ["live"]
    )


_CLOSE = """
UPDATE audit_mqttsession AS s SET disconnected_at = v.at, disconnect_reason = v.reason
FROM (VALUES {values}) AS v(node, client_id, ms, at, reason)
WHERE s.node = v.node AND s.client_id = v.client_id AND s.connected_at_ms = v.ms
  AND s.disconnected_at IS NULL
"""


def _close_sessions(closes: list[tuple[tuple, datetime, str]]) -> None:
    """Close the sessions still open among ``closes``: one statement on PostgreSQL."""
    if not closes:
        return
    if connection.vendor == "postgresql":
        values = ", ".join(["(%s, %s, %s::bigint, %s::timestamptz, %s)"] * len(closes))
        params = [p for (node, client, ms), at, reason in closes for p in (node, client, ms, at, reason)]
        with connection.cursor() as cursor:
            cursor.execute(_CLOSE.format(values=values), params)
        return
    for (node, client_id, ms), at, reason in closes:
        MqttSession.objects.filter(
            node=node, client_id=client_id, connected_at_ms=ms, disconnected_at__isnull=True
        ).update(disconnected_at=at, disconnect_reason=reason)


@transaction.atomic
def ingest(events: list[dict]) -> dict:
    """Record a batch; returns counts. Raises BadEvent (nothing written) for a malformed one."""
    batch = _Batch()
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            raise BadEvent(f"Event {index} is not an object.")
        kind = str(event.get("event") or "")
        if kind not in HANDLED:
            batch.counts["ignored"] += 1
            continue
        try:
            batch.add(kind, event)
        except BadEvent as error:
            raise BadEvent(f"Event {index} ({kind}): {error}") from None
    return batch.write()


def _session_fields(event: dict) -> dict:
    name = _username(event)
    if name is None:
        raise BadEvent("username must be name@org_id.")
    ip, port = _peer(str(event.get("peername") or ""))
    return {
        "org_id": name[0],
        "name": name[1],
        "username": str(event.get("username"))[:100],
        "token_id": str(event.get("token_id") or "")[:32],
        "peer_ip": ip,
        "peer_port": port,
        "transport": _transport(event),
        "proto_ver": str(event.get("proto_ver") or "")[:8],
        "keepalive": _optional_int(event, "keepalive", 65535),
        "clean_start": _optional_bool(event, "clean_start"),
        "expiry_interval": _optional_int(event, "expiry_interval", 2**32 - 1),
    }


def _optional_int(event: dict, name: str, most: int) -> int | None:
    value = event.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= most:
        raise BadEvent(f"{name} must be a whole number from 0 to {most}, not {value!r}.")
    return value


def _optional_bool(event: dict, name: str) -> bool | None:
    value = event.get(name)
    if value is not None and not isinstance(value, bool):
        raise BadEvent(f"{name} must be true or false, not {value!r}.")
    return value


def _identity(event: dict) -> tuple[str, str, int]:
    client_id = str(event.get("clientid") or "")
    if not client_id:
        raise BadEvent("clientid is required.")
    if CONTROL.search(client_id):
        raise BadEvent("clientid holds a control character; brokers refuse such clients.")
    ms = _ms(event.get("connected_at"), "connected_at")
    return (str(event.get("node") or "")[:128], client_id[:256], ms)
