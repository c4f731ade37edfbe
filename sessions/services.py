"""The admin's Disconnect: the broker drops the connection, the audit log says who asked."""

from __future__ import annotations

from django.db import transaction

from audit.models import Action, SubjectType
from audit.services import Actor, Subject, record_event

from .models import MqttSession
from .revocations import emit_disconnect


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
            Action.MQTT_SESSION_DISCONNECTED,
            actor=actor,
            subject=Subject(SubjectType.MQTT_SESSION, str(session.pk), f"{client_id} ({session.username})"),
            request=request,
            details={"client_id": client_id, "peer_ip": session.peer_ip},
        )
    return len(open_sessions)
