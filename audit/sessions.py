"""MQTT sessions: reads for the Sessions pages, and the admin's Disconnect."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet

from broker.revocations import emit_disconnect
from core import keyset

from .models import MqttSession, Transport
from .services import Actor, Subject, record_event

PAGE_SIZE = 50


def filter_sessions(qs: QuerySet[MqttSession], params) -> QuerySet[MqttSession]:
    """Filters of the Sessions page: user, token, credential kind, client id, peer address,
    transport, time range, connected now. Raises BadFilter with a message for unusable values."""
    from .selectors import BadFilter, parse_ip, parse_when

    if params.get("user"):
        qs = qs.filter(username__icontains=params["user"])
    if params.get("token"):
        qs = qs.filter(token_id=params["token"].strip())
    credential = params.get("credential") or ""
    if credential not in ("", "token", "secret"):
        raise BadFilter("credential must be token or secret.")
    if credential:
        qs = qs.exclude(token_id="") if credential == "token" else qs.filter(token_id="")
    if params.get("client"):
        qs = qs.filter(client_id__icontains=params["client"])
    if params.get("ip"):
        qs = qs.filter(peer_ip=parse_ip(params["ip"]))
    if params.get("transport"):
        if params["transport"] not in Transport.values:
            raise BadFilter(f"transport must be one of {', '.join(Transport.values)}.")
        qs = qs.filter(transport=params["transport"])
    if params.get("since"):
        qs = qs.filter(connected_at__gte=parse_when(params["since"], "since"))
    if params.get("until"):
        qs = qs.filter(connected_at__lt=parse_when(params["until"], "until"))
    if params.get("live") == "1":
        qs = qs.filter(disconnected_at__isnull=True)
    return qs


def page_before(
    qs: QuerySet[MqttSession], cursor: str | None, size: int = PAGE_SIZE
) -> tuple[list[MqttSession], str | None]:
    """Newest first, ``size`` at a time, by a keyset cursor (no OFFSET). Raises BadFilter
    for a cursor that is not one of ours, as the audit log's pages do."""
    from .selectors import BadFilter

    try:
        return keyset.page(qs, "connected_at", cursor, size)
    except keyset.BadCursor:
        raise BadFilter("That page link is not valid any more; start from the newest sessions.") from None


@transaction.atomic
def session_disconnect(*, org, client_id: str, actor: Actor, request=None) -> int:
    """Ask the broker to drop the live connection(s) of ``client_id``; returns how many."""
    open_sessions = list(
        MqttSession.objects.filter(org=org, client_id=client_id, disconnected_at__isnull=True)
    )
    for session in open_sessions:
        emit_disconnect(org=org, username=session.username, client_id=client_id, reason="admin_disconnect")
        record_event(
            org,
            "mqtt.session_disconnected",
            actor=actor,
            subject=Subject("mqtt_session", str(session.pk), f"{client_id} ({session.username})"),
            request=request,
            details={"client_id": client_id, "peer_ip": session.peer_ip},
        )
    return len(open_sessions)
