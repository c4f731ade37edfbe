"""One search box for an org (the sidebar's): MQTT users, client ids, token prefixes and
peer addresses, each a short list of links to where the thing is shown. Everything goes
through ``request.tenant``: another org's names and addresses are never found."""

from __future__ import annotations

import ipaddress

from django.db.models import Max, Q
from django.http import HttpResponse

from core.http import OrgRequest
from core.pages import render_page
from core.text import control_character
from sessions.models import MqttSession
from users.models import MqttUser, TempToken

SHOWN = 10  # per kind; the lists behind the links have the rest
MAX_QUERY = 200
TOKEN_PREFIX = "cst_"


def find(tenant, q: str) -> dict:
    """The org's matches for ``q`` by kind (empty lists for none)."""
    sessions = tenant.scope(MqttSession)
    found: dict = {"users": [], "clients": [], "tokens": [], "addresses": []}
    found["users"] = list(
        tenant.scope(MqttUser)
        .filter(Q(name__icontains=q) | Q(description__icontains=q))
        .order_by("name")[:SHOWN]
    )
    found["clients"] = list(
        sessions.filter(client_id__icontains=q)
        .values("client_id")
        .annotate(last=Max("connected_at"), session_id=Max("id"))
        .order_by("-last")[:SHOWN]
    )
    token = q.removeprefix(TOKEN_PREFIX).rstrip("…. ")
    if len(token) >= 4:
        found["tokens"] = list(
            tenant.scope(TempToken)
            .select_related("user")
            .filter(id__startswith=token)
            .order_by("-created_at")[:SHOWN]
        )
    try:
        address = str(ipaddress.ip_address(q))
    except ValueError:
        address = ""
    if address:
        found["addresses"] = list(
            sessions.filter(peer_ip=address)
            .values("username")
            .annotate(last=Max("connected_at"))
            .order_by("-last")[:SHOWN]
        )
        found["address"] = address
    return found


def search(request: OrgRequest, org_id: str) -> HttpResponse:
    q = (request.GET.get("q") or "").strip()
    context: dict = {"q": q, "error": ""}
    if len(q) > MAX_QUERY:
        context["error"] = f"Search for at most {MAX_QUERY} characters."
    elif control_character(q):
        context["error"] = "The search holds a control character; type it again."
    elif q:
        context["found"] = find(request.tenant, q)
        context["any"] = any(context["found"][k] for k in ("users", "clients", "tokens", "addresses"))
    return render_page(request, "search.html", context, status=400 if context["error"] else 200)
