"""Reads of MQTT users and tokens, for the pages and the API alike: one filter and one
keyset page per list, refusing a bad value with ``BadFilter`` (the page shows it and
answers 400, the API answers 422 with the same words)."""

from __future__ import annotations

from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Coalesce

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


# The users list's sortable columns; "never seen" sorts as the oldest.
USER_ORDERS = {
    "name": keyset.Order("name"),
    "last_seen": keyset.Order("seen", descending=True),
    "created": keyset.Order("created_at", descending=True),
    "secret_age": keyset.Order("secret_created_at"),  # the oldest secret first
}


def page_users(qs: QuerySet[MqttUser], after: str | None, size: int = PAGE_SIZE, sort: str | None = None):
    """``size`` at a time: by name after the name ``after`` (the API's order), or by the
    column ``sort`` names with a keyset cursor."""
    try:
        order = keyset.order_of(USER_ORDERS, sort, "name")
    except ValueError as error:
        raise BadFilter(str(error)) from None
    if order == USER_ORDERS["name"]:
        return keyset.page_by_name(qs, "name", after, size)
    qs = qs.annotate(seen=Coalesce("last_seen_at", Value(keyset.EPOCH)))
    try:
        return keyset.page_ordered(qs, order, after, size, pk_type=str)
    except keyset.BadCursor:
        raise BadFilter(STALE_PAGE) from None


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
