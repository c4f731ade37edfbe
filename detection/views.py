"""The top of the dashboard: an org's overview (counts, activity, the security checklist),
its alerts and the detection settings that tune the detectors and the alert webhook."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_http_methods, require_POST

from acls.models import RuleSet
from audit.models import Action, AuditEvent, SubjectType
from audit.services import Actor
from core.broker_ca import ca_file
from core.charts import bar_chart
from core.forms import add_service_errors
from core.http import OrgRequest
from core.pages import filtered_page, render_page, render_secret
from orgs.models import Membership
from orgs.tenancy import sensitive
from sessions.models import MqttSession
from users.models import MqttUser, TempToken

from . import anomalies, registry, respond, tuning, webhooks
from .alerts import acknowledge, resolve
from .checklist import checklist
from .forms import AlertActionForm, ScanSettingsForm
from .models import ACTIVE, Alert, AlertStatus, DeliveryStatus, ScanSettings, WebhookDelivery
from .selectors import filter_alerts, page_alerts


def ca_certificate(request: OrgRequest, org_id: str) -> HttpResponse:
    """The broker's CA certificate (public), as the snippets' ``--cafile ca.pem`` expects."""
    path = ca_file()
    if path is None:
        raise Http404("This broker's certificate is from a public CA: clients need no extra file.")
    response = HttpResponse(path.read_bytes(), content_type="application/x-pem-file")
    response["Content-Disposition"] = 'attachment; filename="ca.pem"'
    return response


def overview(request: OrgRequest, org_id: str) -> HttpResponse:
    tenant = request.tenant
    context = {
        "mqtt_tls_url": settings.MQTT_PUBLIC_TLS_URL,
        "mqtt_wss_url": settings.MQTT_PUBLIC_WSS_URL,
        "ca_available": ca_file() is not None,
        "member_count": tenant.scope(Membership).count(),
        "mqtt_user_count": tenant.scope(MqttUser).count(),
        "active_token_count": tenant.scope(TempToken).with_status("active").count(),
        "rule_set_count": tenant.scope(RuleSet).count(),
        "live_connection_count": tenant.scope(MqttSession).filter(disconnected_at__isnull=True).count(),
        "connections_chart": bar_chart(
            "Connections, last 24 hours", tenant.scope(MqttSession), "connected_at"
        ),
        "failures_chart": bar_chart(
            "Authentication failures, last 24 hours",
            tenant.scope(AuditEvent).filter(action=Action.AUTH_FAILURE),
            "at",
        ),
        "recent_events": tenant.scope(AuditEvent).order_by("-at", "-id")[:8],
        "checklist": checklist(tenant.org),
        "open_alert_count": tenant.scope(Alert).filter(status=AlertStatus.OPEN).count(),
    }
    return render(request, "detection/overview.html", context)


def alert_list(request: OrgRequest, org_id: str) -> HttpResponse:
    """Alerts, most recently seen first; filter by status and detector; keyset pages."""
    tenant = request.tenant
    listed = filtered_page(request, tenant.scope(Alert), filter_alerts, page_alerts, "after")
    context = {
        **listed,
        "status": request.GET.get("status") or ACTIVE,
        "detector": request.GET.get("detector") or "",
        "statuses": [(ACTIVE, "Open and acknowledged"), *AlertStatus.choices, ("all", "All")],
        "detectors": [(spec.key, spec.label) for spec in registry.detectors()],
        "any_alerts": tenant.scope(Alert).exists(),
        "scan": tenant.scope(ScanSettings).first(),
    }
    return render_page(
        request, "detection/alerts.html", context, status=400 if listed["filter_error"] else 200
    )


def alert_detail(
    request: OrgRequest, org_id: str, alert_id: str, form=None, status: int = 200, respond_error: str = ""
) -> HttpResponse:
    alert = request.tenant.get(Alert, pk=alert_id)
    evidence = [{**item, "at": parse_datetime(item.get("at") or "")} for item in alert.evidence]
    context = {
        "alert": alert,
        "evidence": evidence,
        "form": form or AlertActionForm(),
        "targets": respond.targets(alert),
        "respond_error": respond_error,
        "history": request.tenant.scope(AuditEvent)
        .filter(subject_type=SubjectType.ALERT, subject_id=alert.pk)
        .order_by("-at", "-id")[:20],
    }
    return render_page(request, "detection/alert_detail.html", context, status=status)


@require_POST
def alert_respond(request: OrgRequest, org_id: str, alert_id: str) -> HttpResponse:
    """Act on what the alert is about (confirmed on the page): disconnect, disable, revoke."""
    alert = request.tenant.get(Alert, pk=alert_id)
    try:
        done = respond.respond(
            alert=alert,
            action=request.POST.get("action", ""),
            client_id=request.POST.get("client_id", "")[:256],
            actor=Actor.member(request.user),
            request=request,
        )
    except ValidationError as error:
        message = " ".join(m for messages_ in error.message_dict.values() for m in messages_)
        return alert_detail(request, org_id, alert_id, respond_error=message, status=422)
    messages.success(request, done)
    return redirect("alerts:detail", org_id=org_id, alert_id=alert_id)


def _alert_action(request: OrgRequest, org_id: str, alert_id: str, action) -> HttpResponse:
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
def alert_acknowledge(request: OrgRequest, org_id: str, alert_id: str) -> HttpResponse:
    return _alert_action(request, org_id, alert_id, acknowledge)


@require_POST
def alert_resolve(request: OrgRequest, org_id: str, alert_id: str) -> HttpResponse:
    return _alert_action(request, org_id, alert_id, resolve)


@sensitive
@require_http_methods(["GET", "POST"])
def detection_settings(request: OrgRequest, org_id: str) -> HttpResponse:
    """Tune the detectors and the alert webhook; a new webhook signing secret shows once."""
    tenant = request.tenant
    current = anomalies.settings_of(tenant.org)
    form = ScanSettingsForm(request.POST or None, current=tenant.scope(ScanSettings).get())
    if request.method == "POST" and form.is_valid():
        secret = tuning.save_settings(
            current=current,
            data=form.cleaned_data,
            rotate=form.cleaned_data["rotate_secret"],
            actor=Actor.member(request.user),
            request=request,
        )
        page = reverse("detection:settings", kwargs={"org_id": org_id})
        if secret:
            context = {"secret": secret, "settings_tab": "detection", "back_url": page}
            return render_secret(request, "detection/webhook_secret.html", context, push_url=page)
        messages.success(request, "Detection settings saved.")
        return redirect("detection:settings", org_id=org_id)
    context = {"form": form, "settings_tab": "detection", "current": current, **_webhook_log(request)}
    return render_page(request, "detection/settings.html", context, status=422 if form.errors else 200)


DELIVERIES_SHOWN = 20


def _webhook_log(request: OrgRequest) -> dict:
    deliveries = request.tenant.scope(WebhookDelivery).order_by("-created_at", "-id")
    return {"deliveries": list(deliveries[:DELIVERIES_SHOWN])}


@require_POST
def webhook_test(request: OrgRequest, org_id: str) -> HttpResponse:
    """Send a test notification now and show how the receiver answered, in the delivery log."""
    tenant = request.tenant
    try:
        delivery = webhooks.send_test(org=tenant.org, actor=Actor.member(request.user), request=request)
    except LookupError as error:
        result, ok = str(error), False
    else:
        ok = delivery.status == DeliveryStatus.DELIVERED
        result = (
            f"Delivered: {delivery.url} answered {delivery.response_status} in {delivery.duration_ms} ms."
            if ok
            else f"Not delivered: {delivery.error}"
        )
    if request.htmx:
        context = {**_webhook_log(request), "current": anomalies.settings_of(tenant.org)}
        context |= {"test_result": result, "test_ok": ok}
        return render(request, "detection/webhook_log.html", context)  # the receiver failed, not this request
    (messages.success if ok else messages.error)(request, result)
    return redirect("detection:settings", org_id=org_id)
