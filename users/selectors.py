"""Reads of MQTT users and tokens, for the pages and the API alike: one filter and one
keyset page per list, refusing a bad value with ``BadFilter`` (the page shows it and
answers 400, the API answers 422 with the same words)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from core import keyset
from core.filters import BadFilter

from .models import MqttUser, TempToken, TokenStatus

PAGE_SIZE = 25
USER_STATUS_FILTERS = {
    "enabled": Q(enabled=True),
    "disabled": Q(enabled=False),
    "never_seen": Q(last_seen_at__isnull=True),
}
STALE_PAGE = "That page link is not valid any more; start from the first page."


def filter_users(qs: QuerySet[MqttUser], params) -> QuerySet[MqttUser]:
    """``q``: part of the name or description; ``status``: enabled, disabled or never_seen."""
    q = (params.get("q") or "").strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(description__icontains=q))
    status = params.get("status") or ""
    if status:
        if status not in USER_STATUS_FILTERS:
            raise BadFilter(f"status must be one of {', '.join(USER_STATUS_FILTERS)}.")
        qs = qs.filter(USER_STATUS_FILTERS[status])
    return qs


def page_users(qs: QuerySet[MqttUser], after: str | None, size: int = PAGE_SIZE):
    """By name, ``size`` at a time after the name ``after``."""
    return keyset.page_by_name(qs, "name", after, size)


def filter_tokens(qs: QuerySet[TempToken], params) -> QuerySet[TempToken]:
    """``user``: the user's name, exactly; ``status``: active, expired or revoked."""
    user = (params.get("user") or "").strip()
    if user:
        qs = qs.filter(user__name=user)
    status = params.get("status") or ""
    if status:
        if status not in TokenStatus.values:
            raise BadFilter(f"status must be one of {', '.join(TokenStatus.values)}.")
        qs = qs.with_status(status)
    return qs


def page_tokens(qs: QuerySet[TempToken], cursor: str | None, size: int = PAGE_SIZE):
    """Newest first, ``size`` at a time, by a keyset cursor."""
    try:
        return keyset.page(qs, "created_at", cursor, size, pk_type=str)
    except keyset.BadCursor:
        raise BadFilter(STALE_PAGE) from None
