"""REST endpoints of the audit log, sessions and alerts (scope ``manage``): keyset pages of the key's org."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema

from core import keyset
from core.api import ERRORS, ApiError, check_page_request, scoped
from core.filters import BadFilter

from . import selectors
from .models import Alert, AuditEvent

audit_router = Router(tags=["Audit"])


class AuditEventOut(Schema):
    at: datetime
    action: str
    outcome: str
    actor_type: str
    actor_label: str
    subject_type: str
    subject_label: str
    peer_ip: str | None
    details: dict


class AuditPageOut(Schema):
    events: list[AuditEventOut]
    next: str | None = Field(None, description="Pass as ?after= for the next (older) page")


@audit_router.get("", response={200: AuditPageOut, **ERRORS}, summary="Audit events, newest first")
def list_audit(request: HttpRequest, action: str = "", after: str = "", limit: int = 100):
    check_page_request(request, limit)
    try:
        events = selectors.filter_events(scoped(request, AuditEvent), {"action": action})
        rows, next_cursor = selectors.page_of(events, after or None, limit)
    except BadFilter as error:
        raise ApiError(422, str(error)) from None
    return {"events": rows, "next": next_cursor}


class AlertOut(Schema):
    id: str
    detector: str
    subject: str
    severity: str
    status: str
    summary: str
    count: int
    first_seen: datetime
    last_seen: datetime
    evidence: list[dict]
    response: str


class AlertPageOut(Schema):
    alerts: list[AlertOut]
    next: str | None = Field(None, description="Pass as ?after= for the next (older) page")


alerts_router = Router(tags=["Alerts"])


@alerts_router.get("", response={200: AlertPageOut, **ERRORS}, summary="Alerts, most recently seen first")
def list_alerts(request: HttpRequest, status: str = "active", after: str = "", limit: int = 100):
    """``status``: open, acknowledged, resolved, active (open or acknowledged, the default) or all.
    ``after`` is the ``next`` of the previous page (an alert id)."""
    check_page_request(request, limit)
    try:
        qs = scoped(request, Alert).with_status(status)
    except ValueError as error:
        raise ApiError(422, str(error)) from None
    if after:
        cursor = scoped(request, Alert).filter(pk=after).values_list("last_seen", "pk").first()
        if cursor is None:
            raise ApiError(422, "after is not an alert of this organization; start from the first page.")
        qs = keyset.older_than(qs, "last_seen", *cursor)
    rows = list(qs.order_by("-last_seen", "-pk")[: limit + 1])
    return {"alerts": rows[:limit], "next": rows[limit - 1].pk if len(rows) > limit else None}
