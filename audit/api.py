"""REST endpoint of the audit log (scope ``manage``): keyset pages of the key's org."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Router, Schema

from core.api import ERRORS, check_page_request, keyset_list, scoped
from core.http import OrgRequest

from . import selectors
from .models import AuditEvent

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
def list_audit(request: OrgRequest, action: str = "", after: str = "", limit: int = 100):
    check_page_request(request, limit)
    rows, next_cursor = keyset_list(
        scoped(request, AuditEvent),
        selectors.filter_events,
        selectors.page_of,
        {"action": action},
        after,
        limit,
    )
    return {"events": rows, "next": next_cursor}
