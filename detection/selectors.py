"""Reads of alerts, for the Alerts page and the API alike: one filter and one keyset page,
refusing a bad value with ``BadFilter`` (400 on the page, 422 in the API, same words)."""

from __future__ import annotations

from django.db.models import QuerySet

from core import keyset
from core.filters import BadFilter

from . import registry
from .models import ACTIVE, Alert

PAGE_SIZE = 25


def filter_alerts(qs: QuerySet[Alert], params) -> QuerySet[Alert]:
    """``status``: active (open or acknowledged, the default), open, acknowledged, resolved
    or all; ``detector``: a detector's key."""
    try:
        qs = qs.with_status(params.get("status") or ACTIVE)
    except ValueError as error:
        raise BadFilter(str(error)) from None
    detector = params.get("detector") or ""
    if detector:
        if registry.get(detector) is None:
            keys = ", ".join(spec.key for spec in registry.detectors())
            raise BadFilter(f"detector must be one of {keys}.")
        qs = qs.filter(detector=detector)
    return qs


def page_alerts(qs: QuerySet[Alert], cursor: str | None, size: int = PAGE_SIZE):
    """Most recently seen first, ``size`` at a time, by a keyset cursor."""
    try:
        return keyset.page(qs, "last_seen", cursor, size, pk_type=str)
    except keyset.BadCursor:
        raise BadFilter("That page link is not valid any more; start from the newest alerts.") from None
