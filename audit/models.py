"""Audit events: who did what to what, from where and when, per organization."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from core.credentials import new_id


def _alert_id() -> str:
    return "alr_" + new_id()


class ActorType(models.TextChoices):
    MEMBER = "member", "Member"
    API_KEY = "api_key", "API key"
    MQTT_USER = "mqtt_user", "MQTT user"
    SYSTEM = "system", "System"


class Outcome(models.TextChoices):
    SUCCESS = "success", "Success"
    FAILURE = "failure", "Failure"


class AuditEvent(models.Model):
    """One recorded event. Labels are snapshots, so history outlives what it names.

    ``details`` holds ``before``/``after`` for changes and any context of the event; it
    never holds a secret (see ``audit.services.record_event``).
    """

    # Every read is within one org: the indexes below lead with it, and no other index is
    # kept up to date on each of the broker's inserts (org alone, at alone).
    org = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+", db_index=False)
    at = models.DateTimeField()
    actor_type = models.CharField(max_length=16, choices=ActorType.choices)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=64)
    subject_type = models.CharField(max_length=32, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    subject_label = models.CharField(max_length=254, blank=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.SUCCESS)
    peer_ip = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    # The org's hash chain (audit.chain): the event's place in it, and a keyed hash over
    # its canonical content and the previous event's hash.
    seq = models.BigIntegerField()
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "seq"], name="audit_org_seq_unique")]
        indexes = [
            # The audit log reads newest first within one org; keyset on (at, id).
            models.Index(fields=["org", "-at", "-id"], name="audit_org_at_idx"),
            models.Index(fields=["org", "action", "-at"], name="audit_org_action_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.subject_label}"


class AuditChainHead(models.Model):
    """The last link of an org's chain; its row lock serialises appends per org. ``mac``
    (audit.chain.head_mac) binds seq and hash under the pepper-derived key: a head moved by
    someone without the pepper does not verify."""

    org = models.OneToOneField(
        "orgs.Organization", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, blank=True)
    mac = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"{self.org_id} #{self.seq}"


class AuditCheckpoint(models.Model):
    """Where a retention purge cut the chain: the first remaining event links to ``hash``."""

    org = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+")
    seq = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    purged = models.BigIntegerField()
    cutoff = models.DateTimeField()
    at = models.DateTimeField()
    mac = models.CharField(max_length=64, blank=True)  # audit.chain.checkpoint_mac

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "seq"], name="audit_checkpoint_org_seq")]

    def __str__(self) -> str:
        return f"{self.org_id} cut at #{self.seq}"


class AuditVerifiedHead(models.Model):
    """A head the verifier found intact, kept apart from the head row it checked: a chain
    later found shorter than this (its tail deleted and its head set back to an older,
    genuinely signed state) is reported as rolled back. Written only by the verifier,
    never changed (rows are added)."""

    org = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+")
    seq = models.BigIntegerField()
    hash = models.CharField(max_length=64, blank=True)
    mac = models.CharField(max_length=64)
    verified_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["org", "-seq"], name="audit_verified_org_seq")]

    def __str__(self) -> str:
        return f"{self.org_id} verified to #{self.seq}"


class AuditQueueMark(models.Model):
    """The last queued event written (audit.writer): a drain that is repeated after a crash
    between the database commit and the queue trim skips what it already wrote."""

    name = models.CharField(max_length=32, primary_key=True)
    epoch = models.CharField(max_length=32, blank=True)
    last_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} at {self.last_id}"


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
    # The signing key is derived from the server pepper and this salt (audit.webhooks), so
    # no usable secret is stored; a new salt is a rotation.
    webhook_salt = models.CharField(max_length=32, blank=True)
    last_scan_at = models.DateTimeField(null=True, blank=True)
    last_scan_ms = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"scan settings of {self.org_id}"
