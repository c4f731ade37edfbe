"""The Sessions page: who connected, from where, over what, for how long; and Disconnect."""

from __future__ import annotations

from functools import partial

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from audit.models import Action, AuditEvent
from audit.services import Actor
from core import charts
from core.http import OrgRequest
from core.pages import back_within_org, filtered_page, render_page

from .models import MqttSession, Transport
from .selectors import SESSION_ORDERS, filter_sessions, page_before
from .services import session_disconnect as disconnect


def sessions(request: OrgRequest, org_id: str) -> HttpResponse:
    """Who connected, from where, over what, for how long; ?live=1 refreshes itself."""
    tenant = request.tenant
    page = partial(page_before, sort=request.GET.get("sort"))
    listed = filtered_page(request, tenant.scope(MqttSession), filter_sessions, page, "before")
    error = listed["filter_error"]
    span = request.GET.get("span") if request.GET.get("span") in charts.RANGES else "24h"
    failures = tenant.scope(AuditEvent).filter(action=Action.AUTH_FAILURE)
    context = {
        **listed,
        "transports": Transport.choices,
        "orders": SESSION_ORDERS,
        "default_sort": "connected",
        "span": span,
        "span_query": _without(request, "span", "before"),
        "connections_chart": charts.bar_chart("Connections", tenant.scope(MqttSession), "connected_at", span),
        "failures_chart": charts.bar_chart("Authentication failures", failures, "at", span),
        "live_count": tenant.scope(MqttSession).filter(disconnected_at__isnull=True).count(),
        "any_sessions": tenant.scope(MqttSession).exists(),
    }
    if request.htmx and request.htmx.target == "session-rows":  # the live view's refresh: the count too
        context["refreshing"] = True
        return render(request, "sessions/list.html#rows", context, status=400 if error else 200)
    return render_page(request, "sessions/list.html", context, status=400 if error else 200)


def session_detail(request: OrgRequest, org_id: str, session_id: int) -> HttpResponse:
    """One connection as the broker reported it: what the client asked for in its CONNECT,
    what it subscribed to, and Disconnect while it is live."""
    tenant = request.tenant
    session = tenant.get(tenant.scope(MqttSession).select_related("user"), pk=session_id)
    context = {
        "session": session,
        "subscriptions": list(session.subscriptions.order_by("topic")),
        "other_live": tenant.scope(MqttSession)
        .filter(client_id=session.client_id, disconnected_at__isnull=True)
        .exclude(pk=session.pk)
        .order_by("-connected_at")[:5],
    }
    return render_page(request, "sessions/detail.html", context)


@require_POST
def session_disconnect(request: OrgRequest, org_id: str) -> HttpResponse:
    client_id = request.POST.get("client_id", "")[:256]
    count = disconnect(
        org=request.tenant.org, client_id=client_id, actor=Actor.member(request.user), request=request
    )
    if count:
        messages.success(request, f"{client_id} is being disconnected (within about a second).")
    else:
        messages.error(request, f"{client_id or 'That client'} has no live connection.")
    return redirect(back_within_org(request, org_id, reverse("sessions:list", kwargs={"org_id": org_id})))


def _without(request: OrgRequest, *names: str) -> str:
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()
