"""Reads of MQTT sessions, for the Sessions page and the API alike: filters and keyset pages."""

from __future__ import annotations

from django.db.models import QuerySet

from core import keyset
from core.filters import BadFilter, filter_time_range, parse_ip

from .models import MqttSession, Transport

PAGE_SIZE = 50


def filter_sessions(qs: QuerySet[MqttSession], params) -> QuerySet[MqttSession]:
    """Filters of the Sessions page: user, token, credential kind, client id, peer address,
    transport, time range, connected now. Raises BadFilter with a message for unusable values."""
    if params.get("user"):
        qs = qs.filter(username__icontains=params["user"])
    if params.get("token"):
        qs = qs.filter(token_id=params["token"].strip())
    credential = params.get("credential") or ""
    if credential not in ("", "token", "secret"):
        raise BadFilter("credential must be token or secret.")
    if credential:
        qs = qs.exclude(token_id="") if credential == "token" else qs.filter(token_id="")
    if params.get("client"):
        qs = qs.filter(client_id__icontains=params["client"])
    if params.get("ip"):
        qs = qs.filter(peer_ip=parse_ip(params["ip"]))
    if params.get("transport"):
        if params["transport"] not in Transport.values:
            raise BadFilter(f"transport must be one of {', '.join(Transport.values)}.")
        qs = qs.filter(transport=params["transport"])
    qs = filter_time_range(qs, params, "connected_at")
    if params.get("live") == "1":
        qs = qs.filter(disconnected_at__isnull=True)
    return qs


# The Sessions list's sortable columns.
SESSION_ORDERS = {
    "connected": keyset.Order("connected_at", descending=True),
    "user": keyset.Order("username"),
    "client": keyset.Order("client_id"),
}
STALE_PAGE = "That page link is not valid any more; start from the newest sessions."


def page_before(
    qs: QuerySet[MqttSession], cursor: str | None, size: int = PAGE_SIZE, sort: str | None = None
) -> tuple[list[MqttSession], str | None]:
    """Newest first (or by the column ``sort`` names), ``size`` at a time, by a keyset
    cursor (no OFFSET). Raises BadFilter for a sort or cursor that is not one of ours."""
    try:
        order = keyset.order_of(SESSION_ORDERS, sort, "connected")
    except ValueError as error:
        raise BadFilter(str(error)) from None
    try:
        if order == SESSION_ORDERS["connected"]:
            return keyset.page(qs, "connected_at", cursor, size)
        return keyset.page_ordered(qs, order, cursor, size)
    except keyset.BadCursor:
        raise BadFilter(STALE_PAGE) from None
