"""REST endpoint of alerts (scope ``manage``): pages of the key's org, most recently seen first."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema

from core import keyset
from core.api import ERRORS, ApiError, check_page_request, scoped

from .models import Alert


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
