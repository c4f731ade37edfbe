"""Recording audit events: the one function every change in the dashboard calls."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from core.client_ip import client_ip, normal_ip

from . import chain
from .models import Action, ActorType, AuditEvent, Outcome, SubjectType

# Looked up on every broker event (Choices.values builds a list each time).
ACTIONS = frozenset(Action.values)
SUBJECT_TYPES = frozenset(SubjectType.values)

if TYPE_CHECKING:
    from django.db.models import Model
    from django.http import HttpRequest

# Keys that must never be stored, whatever a caller passes: a last line of defence for
# the rule that secrets never appear in audit details (DESIGN §5).
_SECRET_KEY = re.compile(r"(secret|password|token|api_key|pepper)$", re.IGNORECASE)


@dataclass(frozen=True)
class Actor:
    """Who did it: a dashboard member, an API key, an MQTT user or the system itself."""

    type: str
    id: str = ""
    label: str = ""

    @classmethod
    def member(cls, user) -> Actor:
        return cls(ActorType.MEMBER, str(user.pk), user.email)

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(ActorType.SYSTEM, "", label)


@dataclass(frozen=True)
class Subject:
    """What it was done to, as a type, a stable id and a human label."""

    type: str
    id: str = ""
    label: str = ""


def peer_ip_of(request: HttpRequest | None) -> str | None:
    """The caller's address (behind the trusted proxies: see core.client_ip)."""
    return client_ip(request)


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("[redacted]" if _SECRET_KEY.search(str(k)) else _scrub(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def record_event(org: Model, action: str, **kwargs) -> AuditEvent:
    """Record one audit event; call it inside the transaction of the change it describes.

    ``before``/``after`` are the changed fields of a change; ``details`` any other context.
    Keys that name secrets are redacted. The event joins the org's hash chain (audit.chain).
    """
    return chain.append([build_event(org, action, **kwargs)])[0]


def build_event(org: Model | str, action: str, **kwargs) -> AuditEvent:
    """An unsaved audit event (of an org or its id), secrets redacted, for ``chain.append``."""
    return AuditEvent(**event_values(org, action, **kwargs))


def event_values(
    org: Model | str,
    action: str,
    *,
    actor: Actor,
    subject: Subject | None = None,
    request: HttpRequest | None = None,
    peer_ip: str | None = None,
    outcome: str = Outcome.SUCCESS,
    before: dict | None = None,
    after: dict | None = None,
    details: dict | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """An audit event's fields, secrets redacted (``writer.submit`` takes these as they are).
    ``org`` is the org or its id."""
    payload: dict[str, Any] = dict(details or {})
    if before is not None:
        payload["before"] = before
    if after is not None:
        payload["after"] = after
    subject = subject or Subject("")
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}: add it to audit.models.Action")
    if subject.type not in SUBJECT_TYPES:
        raise ValueError(f"unknown audit subject type {subject.type!r}: add it to audit.models.SubjectType")
    return {
        "org_id": org if isinstance(org, str) else org.pk,
        "at": at or timezone.now(),
        "actor_type": actor.type,
        "actor_id": actor.id,
        "actor_label": actor.label,
        "action": str(action),  # a member's str() is its value
        "subject_type": str(subject.type),
        "subject_id": subject.id,
        "subject_label": subject.label,
        "outcome": outcome,
        "peer_ip": normal_ip(peer_ip or peer_ip_of(request)),
        "details": _scrub(payload),
    }


def changed_fields(before: dict, after: dict) -> tuple[dict, dict]:
    """Reduce two snapshots to the fields that differ, for a readable before/after."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}
