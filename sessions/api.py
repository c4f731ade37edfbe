"""REST endpoint of MQTT sessions (scope ``manage``): keyset pages of the key's org, filtered
by the Sessions page's own selector, so page and API answer the same question the same way."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from ninja import Field, Query, Router, Schema

from core.api import ERRORS, check_page_request, keyset_list, scoped
from core.http import OrgRequest

from .models import MqttSession
from .selectors import filter_sessions, page_before


class SessionOut(Schema):
    username: str
    client_id: str
    token_id: str
    peer_ip: str | None
    transport: str
    connected_at: datetime
    disconnected_at: datetime | None
    disconnect_reason: str
    node: str = Field(description="The broker node the client was connected to")


class SessionPageOut(Schema):
    sessions: list[SessionOut]
    next: str | None = Field(None, description="Pass as ?after= for the next (older) page")


sessions_router = Router(tags=["Sessions"])


@sessions_router.get("", response={200: SessionPageOut, **ERRORS}, summary="MQTT sessions, newest first")
def list_sessions(
    request: OrgRequest,
    user: str = Query("", description="Part of the MQTT username, as the Sessions page's filter"),
    client: str = Query("", description="Part of the client id"),
    token: str = Query("", description="A token id: the sessions it authenticated"),
    ip: str = Query("", description="The peer address"),
    transport: str = Query("", description="mqtt, mqtts, ws or wss"),
    since: str = Query("", description="Connected at or after (ISO 8601; UTC unless an offset is given)"),
    until: str = Query("", description="Connected before"),
    active: bool | None = Query(None, description="true: connected now; false: ended"),
    sort: str = Query("connected", description="connected (newest first), user or client; -name reverses"),
    after: str = "",
    limit: int = 100,
):
    check_page_request(request, limit)
    params = {"user": user, "client": client, "token": token, "ip": ip, "transport": transport}
    params |= {"since": since, "until": until}
    qs = scoped(request, MqttSession)
    if active is not None:
        qs = qs.filter(disconnected_at__isnull=active)
    page = partial(page_before, sort=sort)
    rows, next_cursor = keyset_list(qs, filter_sessions, page, params, after, limit)
    return {"sessions": rows, "next": next_cursor}
