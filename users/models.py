"""MQTT users (``name@org_id``) with permanent secrets, and temporary tokens."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from core.credentials import new_id

NAME_PATTERN = r"[a-z0-9._-]{1,64}"
name_validator = RegexValidator(
    rf"^{NAME_PATTERN}\Z",
    "Use 1 to 64 characters: lowercase letters, digits, dot, underscore and hyphen.",
)


class MqttUser(models.Model):
    """An MQTT identity of one org. Its username is ``name@org_id``.

    The permanent secret is stored only as a digest. After a rotation with a grace
    period, the previous digest keeps working until ``previous_secret_valid_until``.
    """

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    org = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="mqtt_users")
    name = models.CharField(max_length=64, validators=[name_validator])
    description = models.CharField(max_length=500, blank=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=254, blank=True, help_text="Who created it (label).")
    last_seen_at = models.DateTimeField(null=True, blank=True)

    secret_digest = models.CharField(max_length=64)
    secret_created_at = models.DateTimeField(default=timezone.now)
    previous_secret_digest = models.CharField(max_length=64, blank=True)
    previous_secret_valid_until = models.DateTimeField(null=True, blank=True)

    # Optimistic locking of the user's ACL (own rules and rule sets): each save increments it.
    acl_revision = models.PositiveIntegerField(default=0)
    # Moves when a rule set assigned to the user changes (the cache key of its rules).
    rules_generation = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "name"], name="mqtt_user_unique_name_per_org")]

    def __str__(self) -> str:
        return self.username

    @property
    def username(self) -> str:
        return f"{self.name}@{self.org_id}"

    def snapshot(self) -> dict:
        """What an admin can change, for audit before/after. Never a digest."""
        return {"name": self.name, "description": self.description, "enabled": self.enabled}


class TokenStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"


class TokenQuerySet(models.QuerySet):
    def with_status(self, status: str) -> TokenQuerySet:
        now = timezone.now()
        if status == TokenStatus.REVOKED:
            return self.filter(revoked_at__isnull=False)
        live = self.filter(revoked_at__isnull=True)
        if status == TokenStatus.EXPIRED:
            return live.filter(models.Q(expired_at__isnull=False) | models.Q(expires_at__lte=now))
        return live.filter(expired_at__isnull=True, expires_at__gt=now)


class TempToken(models.Model):
    """A temporary credential of an MQTT user: ``cst_<id>_<secret>``, used as the password."""

    id = models.CharField(primary_key=True, max_length=32, editable=False)
    org = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(MqttUser, on_delete=models.CASCADE, related_name="tokens")
    label = models.CharField(max_length=100, blank=True)
    secret_digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    # Set by the expiry job (a token past expires_at never authenticates, set or not).
    expired_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    minted_by_type = models.CharField(max_length=16)
    minted_by_id = models.CharField(max_length=64, blank=True)
    minted_by_label = models.CharField(max_length=254, blank=True)

    objects = TokenQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["org", "-created_at"], name="token_org_created_idx"),
            # The sweep finds tokens past due that nobody marked yet.
            models.Index(
                fields=["expires_at"],
                name="token_unmarked_expiry_idx",
                condition=models.Q(expired_at__isnull=True, revoked_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"cst_{self.id} ({self.user_id})"

    @property
    def display_prefix(self) -> str:
        return f"cst_{self.id}"

    @property
    def status(self) -> str:
        return token_status(self.revoked_at, self.expired_at, self.expires_at)


def token_status(revoked_at, expired_at, expires_at) -> str:
    """A token is revoked, expired (marked, or past ``expires_at`` before its job ran) or active."""
    if revoked_at:
        return TokenStatus.REVOKED
    if expired_at or expires_at <= timezone.now():
        return TokenStatus.EXPIRED
    return TokenStatus.ACTIVE


# Grace periods an admin may choose when rotating a permanent secret, in seconds.
ROTATION_GRACE_CHOICES = [(0, "None"), (300, "5 minutes"), (3600, "1 hour"), (86400, "24 hours")]
