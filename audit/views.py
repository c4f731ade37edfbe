"""The audit log of an org (the full page with filters and export comes later)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .models import AuditEvent


def audit_log(request: HttpRequest, org_id: str) -> HttpResponse:
    events = request.tenant.scope(AuditEvent).order_by("-at", "-id")
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "audit/log.html", {"page": page})
