"""What the detectors found (alerts) and how each org tunes them (scan settings, webhook)."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from core.credentials import new_id


def _alert_id() -> str:
    return "alr_" + new_id()


class Detector(models.TextChoices):
    BRUTE_FORCE = "brute_force", "Brute force"
    SHARED_CREDENTIALS = "shared_credentials", "Shared credentials"
    NEW_ADDRESS = "new_address", "New address"
    FLAPPING = "flapping", "Flapping client"
    ACL_DENIALS = "acl_denials", "ACL denial spike"
    MINT_SPIKE = "mint_spike", "Token minting spike"
    DORMANT = "dormant", "Dormant credentials"
    PERMANENT_OVER_WSS = "permanent_over_wss", "Permanent secret over WebSocket"


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
    detector = models.CharField(max_length=32, choices=Detector.choices)
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
        return f"{self.get_detector_display()}: {self.subject}"


def _between(low: int, high: int) -> list:
    return [
        MinValueValidator(low, f"Use at least {low:,}."),
        MaxValueValidator(high, f"Use at most {high:,}."),
    ]


class ScanSettings(models.Model):
    """An org's tuning of the anomaly detectors (defaults are what a new org gets), its
    webhook, and when its last scan ran (the security checklist reads it)."""

    org = models.OneToOneField(
        "orgs.Organization", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    brute_force_failures = models.PositiveIntegerField(default=10, validators=_between(2, 100000))
    brute_force_minutes = models.PositiveIntegerField(default=5, validators=_between(1, 1440))
    brute_force_disable_user = models.BooleanField(
        default=False, help_text="Disable the MQTT user when a brute force is followed by a success."
    )
    shared_credentials = models.BooleanField(default=True)
    new_address_days = models.PositiveIntegerField(default=30, validators=_between(1, 365))
    new_address_by_subnet = models.BooleanField(default=True, help_text="Compare /24 (IPv4) or /64 (IPv6).")
    flapping_connects = models.PositiveIntegerField(default=10, validators=_between(2, 100000))
    flapping_minutes = models.PositiveIntegerField(default=5, validators=_between(1, 1440))
    acl_denials = models.PositiveIntegerField(default=50, validators=_between(1, 1000000))
    acl_denial_minutes = models.PositiveIntegerField(default=5, validators=_between(1, 1440))
    mint_tokens = models.PositiveIntegerField(default=200, validators=_between(1, 1000000))
    mint_minutes = models.PositiveIntegerField(default=5, validators=_between(1, 1440))
    dormant_days = models.PositiveIntegerField(default=90, validators=_between(7, 3650))
    permanent_over_wss = models.BooleanField(default=True)
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
