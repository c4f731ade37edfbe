"""The audit log and the MQTT sessions of an org (full audit pages come with issue 6)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from cloudsignal_dashboard.pages import render_page

from . import sessions as session_service
from .models import AuditEvent, MqttSession, Transport
from .services import Actor


def audit_log(request: HttpRequest, org_id: str) -> HttpResponse:
    events = request.tenant.scope(AuditEvent).order_by("-at", "-id")
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "audit/log.html", {"page": page})


def sessions(request: HttpRequest, org_id: str) -> HttpResponse:
    """Who connected, from where, over what, for how long; ?live=1 refreshes itself."""
    tenant = request.tenant
    filtered = session_service.filter_sessions(tenant.scope(MqttSession), request.GET)
    rows, next_cursor = session_service.page_before(filtered, request.GET.get("before"))
    params = request.GET.copy()
    params.pop("before", None)
    context = {
        "rows": rows,
        "next_cursor": next_cursor,
        "query": params.urlencode(),
        "filters": request.GET,
        "transports": Transport.choices,
        "live_count": tenant.scope(MqttSession).filter(disconnected_at__isnull=True).count(),
        "any_sessions": tenant.scope(MqttSession).exists(),
    }
    if request.htmx and request.htmx.target == "session-rows":
        return render(request, "audit/sessions.html#rows", context)
    return render_page(request, "audit/sessions.html", context)


@require_POST
def session_disconnect(request: HttpRequest, org_id: str) -> HttpResponse:
    client_id = request.POST.get("client_id", "")[:256]
    count = session_service.session_disconnect(
        org=request.tenant.org, client_id=client_id, actor=Actor.member(request.user), request=request
    )
    if count:
        messages.success(request, f"{client_id} is being disconnected (within about a second).")
    else:
        messages.error(request, f"{client_id or 'That client'} has no live connection.")
    return redirect("sessions:list", org_id=org_id)
