"""What the detectors found (alerts) and how each org tunes them (scan settings, webhook)."""

from __future__ import annotations

from django.db import models

from core.credentials import new_id


def _alert_id() -> str:
    return "alr_" + new_id()


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class AlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


ACTIVE = "active"  # open or acknowledged: what still needs someone


class AlertQuerySet(models.QuerySet):
    def unresolved(self) -> AlertQuerySet:
        return self.exclude(status=AlertStatus.RESOLVED)

    def with_status(self, status: str) -> AlertQuerySet:
        """``active`` (open or acknowledged), ``all``, or one status; ValueError otherwise."""
        if status == ACTIVE:
            return self.unresolved()
        if status == "all":
            return self
        if status in AlertStatus.values:
            return self.filter(status=status)
        raise ValueError(f"status must be one of {ACTIVE}, {', '.join(AlertStatus.values)} or all.")


class Alert(models.Model):
    """An anomaly a scan found (DESIGN §3): open → acknowledged → resolved.

    One alert that is not resolved per detector and subject: a repeat raises ``count`` and
    ``last_seen``. ``evidence`` lists the sessions and events behind it (newest first).
    """

    id = models.CharField(primary_key=True, max_length=32, default=_alert_id, editable=False)
    org = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+")
    detector = models.CharField(max_length=32, help_text="A registered detector's key (detection.registry).")
    subject = models.CharField(max_length=300, help_text="What it is about: a username, an address, a key.")
    severity = models.CharField(max_length=8, choices=Severity.choices)
    status = models.CharField(max_length=16, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    summary = models.CharField(max_length=500)
    evidence = models.JSONField(default=list, blank=True)
    count = models.PositiveIntegerField(default=1)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    response = models.CharField(max_length=300, blank=True, help_text="What the automatic response did.")
    acknowledged_by = models.CharField(max_length=254, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=254, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)

    objects = AlertQuerySet.as_manager()

    class Meta:
        db_table = "audit_alert"  # where it was born; the move to this app is state only
        constraints = [
            models.UniqueConstraint(
                fields=["org", "detector", "subject"],
                condition=~models.Q(status="resolved"),
                name="alert_one_unresolved_per_subject",
            )
        ]
        indexes = [models.Index(fields=["org", "status", "-last_seen"], name="alert_org_status_idx")]

    def __str__(self) -> str:
        return f"{self.detector_label}: {self.subject}"

    @property
    def detector_label(self) -> str:
        from .registry import label_of

        return label_of(self.detector)


class ScanSettings(models.Model):
    """An org's tuning of the anomaly detectors (only what differs from the defaults the
    detectors declare), its webhook, and when its last scan ran (the checklist reads it)."""

    org = models.OneToOneField(
        "orgs.Organization", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    # Each detector's settings that differ from their defaults, by name (detection.registry).
    tuning = models.JSONField(default=dict, blank=True)
    webhook_url = models.URLField(blank=True, max_length=500)
    # The signing key is derived from the server pepper and this salt (detection.webhooks), so
    # no usable secret is stored; a new salt is a rotation.
    webhook_salt = models.CharField(max_length=32, blank=True)
    last_scan_at = models.DateTimeField(null=True, blank=True)
    last_scan_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        db_table = "audit_scansettings"

    def __str__(self) -> str:
        return f"scan settings of {self.org_id}"

    @property
    def values(self):
        """Every detector setting's value for this org (``cfg.values.brute_force_minutes``)."""
        from .registry import Tuning

        return Tuning(self.tuning)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Queued"
    RETRYING = "retrying", "Retrying"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    REFUSED = "refused", "Refused"  # the destination is one the dashboard does not send to


class WebhookDelivery(models.Model):
    """One notification to the org's webhook, and what became of it: each attempt updates
    the row, so the settings page shows status, time and retries. The URL is kept
    redacted (no credentials or query), as it was when the notification was sent."""

    org = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=32)  # alert.opened, or test
    alert_id = models.CharField(max_length=32, blank=True)
    url = models.CharField(max_length=500)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["org", "-created_at"], name="webhook_delivery_org_idx")]

    def __str__(self) -> str:
        return f"{self.kind} to {self.url}: {self.status}"
