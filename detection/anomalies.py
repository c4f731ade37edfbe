"""The anomaly scan: every registered detector (``detection/detectors/``) over one org's
recent sessions and events.

A scan (``scan_org``) runs every detector of one org inside one transaction with a
statement timeout, so a slow org cannot hold up the others, and hands the findings to
``detection.alerts.raise_alert`` (one unresolved alert per detector and subject). The
thresholds are the org's tuning (``ScanSettings.values``).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from orgs.models import Organization

from . import registry
from .models import ScanSettings

log = logging.getLogger(__name__)

STATEMENT_TIMEOUT_MS = 10_000


def settings_of(org) -> ScanSettings:
    cfg, _ = ScanSettings.objects.get_or_create(org=org)
    return cfg


def scan_org(org, *, now: datetime | None = None) -> list:
    """Run every detector on one org, raise or refresh its alerts; returns the alerts touched."""
    from .alerts import raise_alert

    now = now or timezone.now()
    started = time.monotonic()
    cfg = settings_of(org)
    tuning = cfg.values
    touched = []
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")
        for spec in registry.detectors():
            for finding in spec.detect(org, tuning, now):
                touched.append(raise_alert(org, finding, tuning=tuning, now=now))
    ScanSettings.objects.filter(pk=org.pk).update(
        last_scan_at=now, last_scan_ms=int((time.monotonic() - started) * 1000)
    )
    return [alert for alert in touched if alert is not None]


def scan_all(*, now: datetime | None = None) -> int:
    """Scan each org on its own; one org's failure (or timeout) is logged, the rest go on."""

    alerts = 0
    for org in Organization.objects.order_by("pk").iterator():
        try:
            alerts += len(scan_org(org, now=now))
        except Exception:
            log.exception("anomaly scan of %s failed", org.pk)
    return alerts
