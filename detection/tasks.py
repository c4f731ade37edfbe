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
    bind=True,
    name="audit.tasks.deliver_webhook",
    autoretry_for=(DeliveryFailed,),
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def deliver_webhook(self, org_id: str, body: str, delivery_id: int | None = None) -> int:
    """One signed alert notification; retried with exponential backoff (5 s … 10 min); its
    delivery row says "failed" after the last try."""
    from . import webhooks

    final = self.request.retries >= self.max_retries
    return webhooks.deliver(org_id, body, delivery_id, final=final)
