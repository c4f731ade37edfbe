"""REST endpoint of alerts (scope ``manage``): pages of the key's org, most recently seen first."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Query, Router, Schema

from core.api import ERRORS, check_page_request, keyset_list, scoped
from core.http import OrgRequest

from .models import Alert
from .selectors import filter_alerts, page_alerts


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
def list_alerts(
    request: OrgRequest,
    status: str = Query(
        "active", description="open, acknowledged, resolved, active (open or acknowledged) or all"
    ),
    detector: str = Query("", description="A detector's key"),
    after: str = Query("", description="The next of the previous page"),
    limit: int = 100,
):
    check_page_request(request, limit)
    params = {"status": status, "detector": detector}
    rows, cursor = keyset_list(scoped(request, Alert), filter_alerts, page_alerts, params, after, limit)
    return {"alerts": rows, "next": cursor}
