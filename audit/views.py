"""The audit log and the MQTT sessions of an org (full audit pages come with issue 6)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from cloudsignal_dashboard.pages import render_page

from . import charts, selectors
from . import sessions as session_service
from .models import AuditEvent, MqttSession, Transport
from .services import Actor


def audit_log(request: HttpRequest, org_id: str) -> HttpResponse:
    """Every event of the org, newest first, filtered, a keyset page at a time."""
    tenant = request.tenant
    error, rows, next_cursor = None, [], None
    try:
        events = selectors.filter_events(tenant.scope(AuditEvent), request.GET)
        rows, next_cursor = selectors.page_of(events, request.GET.get("after"))
    except selectors.BadFilter as bad:
        error = str(bad)
    params = request.GET.copy()
    params.pop("after", None)
    context = {
        "rows": rows,
        "next_cursor": next_cursor,
        "query": params.urlencode(),
        "filters": request.GET,
        "filter_error": error,
        "first_page": not request.GET.get("after"),
    }
    return render_page(request, "audit/log.html", context, status=400 if error else 200)


def audit_export(request: HttpRequest, org_id: str, fmt: str) -> HttpResponse:
    """The filtered log as CSV or JSON Lines, streamed in keyset batches."""
    try:
        events = selectors.filter_events(request.tenant.scope(AuditEvent), request.GET)
    except selectors.BadFilter as bad:
        return HttpResponse(str(bad), status=400, content_type="text/plain")
    stream = selectors.export_csv(events) if fmt == "csv" else selectors.export_jsonl(events)
    response = StreamingHttpResponse(stream, content_type="text/csv" if fmt == "csv" else "application/jsonl")
    response["Content-Disposition"] = f'attachment; filename="audit-{org_id}.{fmt}"'
    return response


def sessions(request: HttpRequest, org_id: str) -> HttpResponse:
    """Who connected, from where, over what, for how long; ?live=1 refreshes itself."""
    tenant = request.tenant
    filtered = session_service.filter_sessions(tenant.scope(MqttSession), request.GET)
    rows, next_cursor = session_service.page_before(filtered, request.GET.get("before"))
    params = request.GET.copy()
    params.pop("before", None)
    span = request.GET.get("span") if request.GET.get("span") in charts.RANGES else "24h"
    failures = tenant.scope(AuditEvent).filter(action="auth.failure")
    context = {
        "rows": rows,
        "next_cursor": next_cursor,
        "query": params.urlencode(),
        "filters": request.GET,
        "transports": Transport.choices,
        "span": span,
        "connections_chart": charts.bar_chart("Connections", tenant.scope(MqttSession), "connected_at", span),
        "failures_chart": charts.bar_chart("Authentication failures", failures, "at", span),
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
