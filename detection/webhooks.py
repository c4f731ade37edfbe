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

from audit import chain
from core import egress

from .models import Alert, ScanSettings

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


def announce(alert: Alert, kind: str) -> None:
    """Queue the delivery once the current transaction commits (nothing for no webhook)."""
    cfg = ScanSettings.objects.filter(pk=alert.org_id).first()
    if cfg is None or not cfg.webhook_url:
        return
    from .tasks import deliver_webhook

    body = json.dumps(payload(alert, kind), separators=(",", ":"))
    transaction.on_commit(lambda: deliver_webhook.delay(alert.org_id, body))


class DeliveryFailed(Exception):
    """The receiver did not answer 2xx; Celery retries with backoff."""


class DeliveryRefused(Exception):
    """The destination is not one the dashboard sends to (any more): not retried."""


def deliver(org_id: str, body: str) -> int:
    """POST one signed notification; returns the HTTP status, raises DeliveryFailed (retried)
    or DeliveryRefused (the URL now resolves somewhere the egress rule refuses)."""
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
            f"{shown} answered {status}" + (" (redirects are not followed)" if 300 <= status < 400 else "")
        )
    return status
