"""Celery jobs of the audit log."""

from __future__ import annotations

from celery import shared_task

from . import retention, writer
from .models import organizations


@shared_task
def drain_audit_queue() -> int:
    """Every 10 s: write queued broker events the web processes have not written yet."""
    return writer.drain_all()


@shared_task
def purge_expired_audit_events() -> int:
    """Every hour: each org's events past its retention, cut with a checkpoint."""
    return sum(retention.purge_expired(org) for org in organizations().iterator())


@shared_task
def verify_chain(org_id: str) -> bool:
    """Walk one org's audit chain for the log page's badge (a long chain takes a while)."""
    from . import chain

    return chain.verify_and_remember(org_id).ok


@shared_task
def verify_all_chains() -> int:
    """Verify every org's chain each day and remember the heads found intact: a head set
    back later than that is reported as rolled back. Returns how many chains are broken
    (each logged as an error, for the operator's alerting)."""
    import logging

    from . import chain

    broken = 0
    for org_id in organizations().order_by("pk").values_list("pk", flat=True).iterator():
        verdict = chain.verify_and_remember(org_id)
        if not verdict.ok:
            broken += 1
            logging.getLogger(__name__).error("audit chain broken: %s", verdict)
    return broken
