"""Celery jobs of detection: the scan every minute, and webhook deliveries with retries."""

from __future__ import annotations

from celery import shared_task

from .webhooks import DeliveryFailed


@shared_task
def scan_anomalies() -> int:
    """Every minute: each org's detectors; returns the alerts opened or repeated."""
    from . import anomalies

    return anomalies.scan_all()


# The name it had under audit/: deliveries queued or retrying across the upgrade still run.
@shared_task(
    name="audit.tasks.deliver_webhook",
    autoretry_for=(DeliveryFailed,),
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def deliver_webhook(org_id: str, body: str) -> int:
    """One signed alert notification; retried with exponential backoff (5 s … 10 min)."""
    from . import webhooks

    return webhooks.deliver(org_id, body)
