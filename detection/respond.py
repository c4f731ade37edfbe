"""Acting from an alert: disconnect a client, disable the MQTT user, revoke its tokens.

What an alert is about is read from it once here: the MQTT user its subject or evidence
names (``name@org_id``), the address of an address alert, and the live connections of
either. Each action goes through the service that owns it (which audits it and tells the
broker) and is recorded on the alert as well, so its page and the log say who responded how.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.models import Action
from audit.services import Actor, record_event
from core.text import counted
from sessions.models import MqttSession
from sessions.services import session_disconnect
from users.models import MqttUser, TempToken, TokenStatus
from users.services import user_update
from users.tokens import tokens_revoke

from .alerts import alert_subject
from .models import Alert

LIVE_SHOWN = 20
ACTIONS = {
    "disconnect": "Disconnect the client",
    "disable": "Disable the MQTT user",
    "revoke_tokens": "Revoke the user's tokens",
}


@dataclass
class Targets:
    user: MqttUser | None = None
    address: str = ""
    live: list[MqttSession] = field(default_factory=list)
    active_tokens: int = 0

    @property
    def any(self) -> bool:
        return bool(self.live or (self.user and (self.user.enabled or self.active_tokens)))


def targets(alert: Alert) -> Targets:
    """What the alert's responses can act on, as it is now."""
    found = Targets()
    names = re.findall(rf"([a-z0-9._-]{{1,64}})@{re.escape(alert.org_id)}(?![\w.-])", alert.subject)
    names += [item["name"] for item in alert.evidence if item.get("kind") == "user" and item.get("name")]
    if names:
        found.user = MqttUser.objects.filter(org_id=alert.org_id, name=names[0]).first()
    if alert.subject.startswith("address "):
        try:
            found.address = str(ipaddress.ip_address(alert.subject.removeprefix("address ").strip()))
        except ValueError:
            pass
    live = MqttSession.objects.filter(org_id=alert.org_id, disconnected_at__isnull=True)
    session_ids = [item["id"] for item in alert.evidence if item.get("kind") == "session"]
    concerned = live.filter(pk__in=session_ids)
    if found.user:
        concerned = concerned | live.filter(user=found.user)
        found.active_tokens = (
            TempToken.objects.filter(org_id=alert.org_id, user=found.user)
            .with_status(TokenStatus.ACTIVE)
            .count()
        )
    if found.address:
        concerned = concerned | live.filter(peer_ip=found.address)
    found.live = list(concerned.order_by("-connected_at")[:LIVE_SHOWN])
    return found


@transaction.atomic
def respond(*, alert: Alert, action: str, actor: Actor, client_id: str = "", request=None) -> str:
    """Carry out one response; returns what was done, in words. ValidationError when the
    action does not apply to this alert (nothing changed)."""
    if action not in ACTIONS:
        raise ValidationError({"action": f"action must be one of {', '.join(ACTIONS)}."})
    found = targets(alert)
    if action == "disconnect":
        if client_id not in {s.client_id for s in found.live}:
            raise ValidationError(
                {"client_id": f"{client_id or 'That client'} is not a live client of this alert."}
            )
        count = session_disconnect(org=alert.org, client_id=client_id, actor=actor, request=request)
        done = f"Disconnected {client_id} ({counted(count, 'connection')})."
    elif found.user is None:
        raise ValidationError({"action": "This alert names no MQTT user of this organization."})
    elif action == "disable":
        if not found.user.enabled:
            raise ValidationError({"action": f"{found.user.username} is already disabled."})
        user_update(user=found.user, enabled=False, actor=actor, request=request)
        done = f"Disabled {found.user.username}; its live sessions are being disconnected."
    else:
        tokens = TempToken.objects.filter(org=alert.org, user=found.user)
        count = tokens_revoke(tokens=tokens, actor=actor, request=request)
        if not count:
            raise ValidationError({"action": f"{found.user.username} has no active token to revoke."})
        done = f"Revoked {counted(count, 'token')} of {found.user.username}."
    record_event(
        alert.org,
        Action.ALERT_RESPONDED,
        actor=actor,
        subject=alert_subject(alert),
        request=request,
        details={"response": action, "result": done},
    )
    return done
