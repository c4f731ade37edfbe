"""An org's alert webhook: a JSON POST signed with HMAC-SHA256, retried by Celery.

The signing secret is derived from the server pepper, the org id and a random salt kept in
``ScanSettings.webhook_salt``: it is shown once when the webhook is set (or the secret
rotated) and never stored. Receivers check
``X-CloudSignal-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>``
and refuse old timestamps (replays).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import secrets
import time

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audit import chain
from audit.models import Action
from audit.services import Actor, record_event
from core import egress

from .models import Alert, DeliveryStatus, ScanSettings, WebhookDelivery

HEADER = "X-CloudSignal-Signature"
TIMEOUT = 10


def signing_secret(org_id: str, salt: str) -> str:
    key = hmac.new(settings.SECRETS_PEPPER.encode(), f"webhook:{org_id}:{salt}".encode(), hashlib.sha256)
    return "whsec_" + key.hexdigest()


def new_salt() -> str:
    return secrets.token_hex(16)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def payload(alert: Alert, kind: str) -> dict:
    return {
        "type": kind,
        "org": alert.org_id,
        # The audit chain's signed head, kept by the receiver: a later rollback shows.
        "audit_chain_head": chain.head_record(alert.org_id),
        "alert": {
            "id": alert.pk,
            "detector": alert.detector,
            "subject": alert.subject,
            "severity": alert.severity,
            "status": alert.status,
            "summary": alert.summary,
            "count": alert.count,
            "first_seen": alert.first_seen.isoformat(),
            "last_seen": alert.last_seen.isoformat(),
            "response": alert.response,
        },
    }


def test_payload(org_id: str) -> dict:
    """What "Send a test alert" sends: an alert's shape, marked as a test."""
    now = timezone.now().isoformat()
    return {
        "type": "test",
        "org": org_id,
        "audit_chain_head": chain.head_record(org_id),
        "alert": {
            "id": "test",
            "detector": "test",
            "subject": "a test from the detection settings",
            "severity": "low",
            "status": "open",
            "summary": "A test notification: the webhook receives and verifies alerts.",
            "count": 1,
            "first_seen": now,
            "last_seen": now,
            "response": "",
        },
    }


def announce(alert: Alert, kind: str) -> None:
    """Log and queue the delivery once the current transaction commits (nothing for no webhook)."""
    cfg = ScanSettings.objects.filter(pk=alert.org_id).first()
    if cfg is None or not cfg.webhook_url:
        return
    from .tasks import deliver_webhook

    body = json.dumps(payload(alert, kind), separators=(",", ":"))
    delivery = WebhookDelivery.objects.create(
        org_id=alert.org_id, kind=kind, alert_id=alert.pk, url=egress.redacted(cfg.webhook_url)
    )
    transaction.on_commit(lambda: deliver_webhook.delay(alert.org_id, body, delivery.pk))


def send_test(*, org, actor: Actor, request=None) -> WebhookDelivery:
    """Deliver a test notification now, once (no retries: the admin is waiting for the
    answer); logged like the others and audited. Raises LookupError without a webhook."""
    cfg = ScanSettings.objects.filter(pk=org.pk).first()
    if cfg is None or not cfg.webhook_url:
        raise LookupError("Set a webhook URL and save before sending a test.")
    delivery = WebhookDelivery.objects.create(org=org, kind="test", url=egress.redacted(cfg.webhook_url))
    body = json.dumps(test_payload(org.pk), separators=(",", ":"))
    try:
        deliver(org.pk, body, delivery.pk, final=True)
    except (DeliveryFailed, DeliveryRefused):
        pass  # the delivery row says what happened
    delivery.refresh_from_db()
    record_event(
        org,
        Action.DETECTION_WEBHOOK_TESTED,
        actor=actor,
        request=request,
        details={"url": delivery.url, "status": delivery.status, "response_status": delivery.response_status},
    )
    return delivery


class DeliveryFailed(Exception):
    """The receiver did not answer 2xx; Celery retries with backoff."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class DeliveryRefused(Exception):
    """The destination is not one the dashboard sends to (any more): not retried."""


def _attempted(delivery_id: int | None, status: str, *, code=None, error: str = "", started: float) -> None:
    if delivery_id is None:  # queued before deliveries were logged
        return
    WebhookDelivery.objects.filter(pk=delivery_id).update(
        status=status,
        attempts=F("attempts") + 1,
        response_status=code,
        error=error[:300],
        duration_ms=int((time.monotonic() - started) * 1000),
        last_attempt_at=timezone.now(),
    )


def deliver(org_id: str, body: str, delivery_id: int | None = None, *, final: bool = False) -> int:
    """POST one signed notification; returns the HTTP status, raises DeliveryFailed (retried)
    or DeliveryRefused (the URL now resolves somewhere the egress rule refuses). Each
    attempt is written to its delivery's row; ``final``: no retry follows a failure."""
    started = time.monotonic()
    try:
        status = _post(org_id, body)
    except DeliveryRefused as error:
        _attempted(delivery_id, DeliveryStatus.REFUSED, error=str(error), started=started)
        raise
    except DeliveryFailed as error:
        failed = DeliveryStatus.FAILED if final else DeliveryStatus.RETRYING
        _attempted(delivery_id, failed, code=error.status, error=str(error), started=started)
        raise
    _attempted(delivery_id, DeliveryStatus.DELIVERED, code=status or None, started=started)
    return status


def _post(org_id: str, body: str) -> int:
    cfg = ScanSettings.objects.filter(pk=org_id).first()
    if cfg is None or not cfg.webhook_url:
        return 0  # turned off since: nothing to deliver
    data = body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "CloudSignal-Webhook/1",
        HEADER: signature(signing_secret(org_id, cfg.webhook_salt), int(time.time()), data),
    }
    shown = egress.redacted(cfg.webhook_url)
    try:
        status = egress.post(cfg.webhook_url, data, headers, timeout=TIMEOUT)
    except egress.Refused as error:
        raise DeliveryRefused(f"{shown}: {error}") from None
    except (TimeoutError, OSError, http.client.HTTPException) as error:
        raise DeliveryFailed(f"{shown}: {error}") from None
    if not 200 <= status < 300:
        raise DeliveryFailed(
            f"{shown} answered {status}" + (" (redirects are not followed)" if 300 <= status < 400 else ""),
            status,
        )
    return status
