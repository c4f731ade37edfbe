"""The audit log of an org: the list, exports, one event and the chain badge."""

from __future__ import annotations

import json

from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from core.filters import BadFilter
from core.http import OrgRequest
from core.pages import filtered_page, render_page

from . import selectors
from .chain import verdict_or_progress
from .models import AuditEvent, action_groups


def audit_log(request: OrgRequest, org_id: str) -> HttpResponse:
    """Every event of the org, newest first, filtered, a keyset page at a time."""
    listed = filtered_page(
        request, request.tenant.scope(AuditEvent), selectors.filter_events, selectors.page_of, "after"
    )
    context = {
        **listed,
        "action_groups": action_groups(),
        "any_events": request.tenant.scope(AuditEvent).exists(),
    }
    return render_page(request, "audit/log.html", context, status=400 if listed["filter_error"] else 200)


def audit_export(request: OrgRequest, org_id: str, fmt: str) -> HttpResponse:
    """The filtered log as CSV or JSON Lines, streamed in keyset batches."""
    try:
        events = selectors.filter_events(request.tenant.scope(AuditEvent), request.GET)
    except BadFilter as bad:
        return HttpResponse(str(bad), status=400, content_type="text/plain")
    stream = selectors.export_csv(events) if fmt == "csv" else selectors.export_jsonl(events, org_id=org_id)
    response = StreamingHttpResponse(stream, content_type="text/csv" if fmt == "csv" else "application/jsonl")
    response["Content-Disposition"] = f'attachment; filename="audit-{org_id}.{fmt}"'
    return response


def _shown(value):
    """A recorded value as a person reads it: text as it is, anything else as JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def audit_detail(request: OrgRequest, org_id: str, seq: int) -> HttpResponse:
    """One event (by its place in the org's chain): every field, the before/after of a
    change side by side, its chain link."""
    event = request.tenant.get(AuditEvent, seq=seq)
    details = dict(event.details)
    before, after = details.pop("before", None), details.pop("after", None)
    diff = []
    if isinstance(before, dict) or isinstance(after, dict):
        before, after = before or {}, after or {}
        diff = [
            (key, _shown(before.get(key)), _shown(after.get(key))) for key in dict.fromkeys([*before, *after])
        ]
    elif before is not None or after is not None:
        diff = [("value", _shown(before), _shown(after))]
    context = {
        "event": event,
        "diff": diff,
        "details": {key: _shown(value) for key, value in details.items()},
    }
    return render_page(request, "audit/detail.html", context)


def audit_verify(request: OrgRequest, org_id: str) -> HttpResponse:
    """The chain badge, loaded after the log page shows: verified, the first break, or the
    progress of a long chain's walk (the badge then asks again every second)."""
    verdict, progress = verdict_or_progress(request.tenant.org.pk)
    return render(request, "audit/verify_badge.html", {"verdict": verdict, "progress": progress})
