"""The audit log of an org: the list, exports, one event and the chain badge."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_http_methods, require_POST

from core.filters import BadFilter
from core.forms import add_service_errors
from core.pages import filtered_page, render_page, render_secret

from . import anomalies, detection, selectors
from .alerts import acknowledge, resolve
from .chain import verdict_or_progress
from .forms import AlertActionForm, ScanSettingsForm
from .models import ACTIVE, Alert, AlertStatus, AuditEvent, Detector, ScanSettings
from .services import Actor


def audit_log(request: HttpRequest, org_id: str) -> HttpResponse:
    """Every event of the org, newest first, filtered, a keyset page at a time."""
    listed = filtered_page(
        request, request.tenant.scope(AuditEvent), selectors.filter_events, selectors.page_of, "after"
    )
    context = {**listed, "first_page": not request.GET.get("after")}
    return render_page(request, "audit/log.html", context, status=400 if listed["filter_error"] else 200)


def audit_export(request: HttpRequest, org_id: str, fmt: str) -> HttpResponse:
    """The filtered log as CSV or JSON Lines, streamed in keyset batches."""
    try:
        events = selectors.filter_events(request.tenant.scope(AuditEvent), request.GET)
    except BadFilter as bad:
        return HttpResponse(str(bad), status=400, content_type="text/plain")
    stream = selectors.export_csv(events) if fmt == "csv" else selectors.export_jsonl(events, org_id=org_id)
    response = StreamingHttpResponse(stream, content_type="text/csv" if fmt == "csv" else "application/jsonl")
    response["Content-Disposition"] = f'attachment; filename="audit-{org_id}.{fmt}"'
    return response


def audit_detail(request: HttpRequest, org_id: str, seq: int) -> HttpResponse:
    """One event (by its place in the org's chain): every field, the before/after of a
    change side by side, its chain link."""
    event = request.tenant.get(AuditEvent, seq=seq)
    details = dict(event.details)
    before, after = details.pop("before", None), details.pop("after", None)
    diff = []
    if isinstance(before, dict) or isinstance(after, dict):
        before, after = before or {}, after or {}
        diff = [(key, before.get(key), after.get(key)) for key in dict.fromkeys([*before, *after])]
    elif before is not None or after is not None:
        diff = [("value", before, after)]
    context = {"event": event, "diff": diff, "details": details}
    return render_page(request, "audit/detail.html", context)


def audit_verify(request: HttpRequest, org_id: str) -> HttpResponse:
    """The chain badge, loaded after the log page shows: verified, the first break, or the
    progress of a long chain's walk (the badge then asks again every second)."""
    verdict, progress = verdict_or_progress(request.tenant.org.pk)
    return render(request, "audit/verify_badge.html", {"verdict": verdict, "progress": progress})


def alert_list(request: HttpRequest, org_id: str) -> HttpResponse:
    """Alerts, open and acknowledged first; filter by status and detector; pages of 25."""

    tenant = request.tenant
    status = request.GET.get("status") or ACTIVE
    try:
        alerts = tenant.scope(Alert).with_status(status)
    except ValueError as error:
        return HttpResponse(str(error), status=400)
    detector = request.GET.get("detector") or ""
    if detector:
        if detector not in Detector.values:
            return HttpResponse(f"Unknown detector {detector!r}.", status=400)
        alerts = alerts.filter(detector=detector)
    page = Paginator(alerts.order_by("-last_seen", "-pk"), 25).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "page": page,
        "status": status,
        "detector": detector,
        "statuses": [(ACTIVE, "Open and acknowledged"), *AlertStatus.choices, ("all", "All")],
        "detectors": Detector.choices,
        "query": params.urlencode(),
        "any_alerts": tenant.scope(Alert).exists(),
        "scan": tenant.scope(ScanSettings).first(),
    }
    return render_page(request, "audit/alerts.html", context)


def alert_detail(
    request: HttpRequest, org_id: str, alert_id: str, form=None, status: int = 200
) -> HttpResponse:
    alert = request.tenant.get(Alert, pk=alert_id)
    evidence = [{**item, "at": parse_datetime(item.get("at") or "")} for item in alert.evidence]
    context = {"alert": alert, "evidence": evidence, "form": form or AlertActionForm()}
    return render_page(request, "audit/alert_detail.html", context, status=status)


def _alert_action(request: HttpRequest, org_id: str, alert_id: str, action) -> HttpResponse:
    alert = request.tenant.get(Alert, pk=alert_id)
    form = AlertActionForm(request.POST)
    if form.is_valid():
        try:
            action(
                alert=alert,
                actor=Actor.member(request.user),
                comment=form.cleaned_data["comment"],
                request=request,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Alert updated; the change is in the audit log.")
            return redirect("alerts:detail", org_id=org_id, alert_id=alert_id)
    return alert_detail(request, org_id, alert_id, form=form, status=422)


@require_POST
def alert_acknowledge(request: HttpRequest, org_id: str, alert_id: str) -> HttpResponse:
    return _alert_action(request, org_id, alert_id, acknowledge)


@require_POST
def alert_resolve(request: HttpRequest, org_id: str, alert_id: str) -> HttpResponse:
    return _alert_action(request, org_id, alert_id, resolve)


@require_http_methods(["GET", "POST"])
def detection_settings(request: HttpRequest, org_id: str) -> HttpResponse:
    """Tune the detectors and the alert webhook; a new webhook signing secret shows once."""
    tenant = request.tenant
    current = anomalies.settings_of(tenant.org)
    form = ScanSettingsForm(request.POST or None, instance=tenant.scope(ScanSettings).get())
    if request.method == "POST" and form.is_valid():
        secret = detection.save_settings(
            current=current,
            data=form.cleaned_data,
            rotate=form.cleaned_data["rotate_secret"],
            actor=Actor.member(request.user),
            request=request,
        )
        page = reverse("orgs:detection", kwargs={"org_id": org_id})
        if secret:
            context = {"secret": secret, "settings_tab": "detection", "back_url": page}
            return render_secret(request, "audit/webhook_secret.html", context, push_url=page)
        messages.success(request, "Detection settings saved.")
        return redirect("orgs:detection", org_id=org_id)
    context = {"form": form, "settings_tab": "detection", "current": current}
    return render_page(request, "audit/detection_settings.html", context, status=422 if form.errors else 200)
