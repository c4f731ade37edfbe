"""Organizations (tenants) and the memberships that give dashboard accounts a role."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, ProhibitNullCharactersValidator
from django.db import models
from django.utils import timezone

from core.api import Scope

ORG_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # lowercase RFC 4648 base32
ORG_ID_PATTERN = r"org_[a-z2-7]{12}"

# Quota bounds, shared by the model validators, the database constraints and the forms.
MAX_TOKEN_TTL_LIMIT = 24 * 3600
MIN_TOKEN_TTL = 60
QUOTA_BOUNDS = {
    "max_mqtt_users": (1, 100_000),
    "max_connections": (1, 1_000_000),
    "token_ttl_default": (MIN_TOKEN_TTL, MAX_TOKEN_TTL_LIMIT),
    "token_ttl_max": (MIN_TOKEN_TTL, MAX_TOKEN_TTL_LIMIT),
    "audit_retention_days": (7, 3650),
}


def new_org_id() -> str:
    """``org_`` + 12 random base32 characters (60 bits): unguessable and immutable."""
    return "org_" + "".join(secrets.choice(ORG_ID_ALPHABET) for _ in range(12))


def new_member_id() -> str:
    """Opaque membership id for URLs: sequential integers would invite enumeration."""
    return "mem_" + "".join(secrets.choice(ORG_ID_ALPHABET) for _ in range(12))


def _bounded(field: str) -> list:
    low, high = QUOTA_BOUNDS[field]
    return [MinValueValidator(low), MaxValueValidator(high)]


class Organization(models.Model):
    """A tenant: its own topic namespace ``<id>/``, users, quotas and audit log."""

    id = models.CharField(primary_key=True, max_length=16, default=new_org_id, editable=False)
    name = models.CharField(max_length=100, validators=[ProhibitNullCharactersValidator()])
    created_at = models.DateTimeField(auto_now_add=True)

    max_mqtt_users = models.PositiveIntegerField(
        "max MQTT users", default=100, validators=_bounded("max_mqtt_users")
    )
    max_connections = models.PositiveIntegerField(
        "max concurrent connections", default=1000, validators=_bounded("max_connections")
    )
    token_ttl_default = models.PositiveIntegerField(
        "default token TTL (seconds)", default=3600, validators=_bounded("token_ttl_default")
    )
    token_ttl_max = models.PositiveIntegerField(
        "maximum token TTL (seconds)", default=MAX_TOKEN_TTL_LIMIT, validators=_bounded("token_ttl_max")
    )
    audit_retention_days = models.PositiveIntegerField(
        default=365, validators=_bounded("audit_retention_days")
    )
    # Members without a second factor are sent to enrol before any page of the org.
    require_mfa = models.BooleanField(
        "require two-factor authentication",
        default=False,
        help_text="Members without an authenticator app or security key enrol one before they can open "
        "any page of this organization.",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(token_ttl_default__lte=models.F("token_ttl_max")),
                name="org_ttl_default_within_max",
            ),
            models.CheckConstraint(
                condition=models.Q(token_ttl_max__lte=MAX_TOKEN_TTL_LIMIT),
                name="org_ttl_max_at_most_24h",
            ),
            models.CheckConstraint(condition=~models.Q(name=""), name="org_name_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"

    @property
    def namespace(self) -> str:
        """The topic prefix every topic of this org lives under."""
        return f"{self.id}/"

    def clean(self) -> None:
        self.name = (self.name or "").strip()
        if not self.name:
            raise ValidationError({"name": "Give the organization a name."})
        if (
            self.token_ttl_default is not None
            and self.token_ttl_max is not None
            and self.token_ttl_default > self.token_ttl_max
        ):
            raise ValidationError(
                {
                    "token_ttl_default": (
                        f"The default token TTL ({self.token_ttl_default} s) must not exceed "
                        f"the maximum token TTL ({self.token_ttl_max} s)."
                    )
                }
            )

    def quota_snapshot(self) -> dict:
        """The settings an admin can change, for audit before/after."""
        quotas = {f: getattr(self, f) for f in QUOTA_BOUNDS}
        return {"name": self.name, **quotas, "require_mfa": self.require_mfa}


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    AUDITOR = "auditor", "Auditor"


# What each role may change. Auditors read everything and change nothing.
WRITE_ROLES = {Role.OWNER, Role.ADMIN}


class Membership(models.Model):
    """A dashboard account's role in one organization."""

    id = models.CharField(primary_key=True, max_length=16, default=new_member_id, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the member last opened a page of the org: sign-in lands in the latest, not in
    # the first by name (a name anyone inviting them could choose).
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "user"], name="membership_unique_user_per_org"),
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} is {self.role} of {self.org_id}"


class ApiKey(models.Model):
    """An org's credential for its backends: ``sk_<id>_<secret>``, stored as a digest."""

    id = models.CharField(primary_key=True, max_length=32, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    scopes = models.JSONField(default=list)
    secret_digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=254, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} (sk_{self.id})"

    @property
    def display_prefix(self) -> str:
        return f"sk_{self.id}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def allows(self, scope: str) -> bool:
        """``manage`` grants every scope."""
        return scope in self.scopes or Scope.MANAGE in self.scopes


def new_invitation_id() -> str:
    from core.credentials import new_id

    return "inv_" + new_id()


class InvitationQuerySet(models.QuerySet):
    def pending(self, now=None) -> InvitationQuerySet:
        """Neither accepted, declined nor withdrawn, and not expired."""
        return self.filter(
            accepted_at=None, declined_at=None, revoked_at=None, expires_at__gt=now or timezone.now()
        )


class Invitation(models.Model):
    """An owner's invitation of an email to a role in the org: accepted by the account that
    verified that email, through a link that works once and expires. Only the digest of the
    link's token is kept."""

    id = models.CharField(primary_key=True, max_length=24, default=new_invitation_id, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()  # lower-cased
    role = models.CharField(max_length=16, choices=Role.choices)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    invited_by_label = models.CharField(max_length=254)
    token_digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["org", "email"], name="invitation_org_email_idx")]

    def __str__(self) -> str:
        return f"{self.email} to {self.org_id} as {self.role}"

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.declined_at:
            return "declined"
        if self.revoked_at:
            return "withdrawn"
        return "expired" if self.expires_at <= timezone.now() else "pending"


def provider_id_of(org_id: str) -> str:
    return f"sso-{org_id}"


class SsoConfig(models.Model):
    """An org's single sign-on through an OpenID Connect provider (orgs.sso).

    Its provider id (``sso-<org id>``) names its callback URL and the bindings of the IdP's
    subjects to accounts; a new issuer or client id drops those bindings (orgs.sso), so a new
    IdP never inherits the old one's subjects. The client secret is kept sealed (core.sealed)."""

    org = models.OneToOneField(Organization, on_delete=models.CASCADE, primary_key=True, related_name="sso")
    issuer = models.URLField(max_length=300)
    client_id = models.CharField(max_length=200)
    client_secret_sealed = models.TextField()
    enabled = models.BooleanField(default=True)
    default_role = models.CharField(max_length=16, choices=Role.choices, default=Role.AUDITOR)
    # {"<group>": "<role>"}: when set, every SSO sign-in sets the member's role from the IdP's
    # groups claim (the most powerful role matched, else the default role).
    group_roles = models.JSONField(default=dict, blank=True)
    groups_claim = models.CharField(max_length=100, default="groups")
    password_sign_in = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(default_role__in=[Role.ADMIN.value, Role.AUDITOR.value]),
                name="sso_default_role_not_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"single sign-on of {self.org_id}"

    @property
    def provider_id(self) -> str:
        return provider_id_of(self.org_id)

    def bound_accounts(self) -> int:
        """How many accounts this IdP's subjects are bound to."""
        from allauth.socialaccount.models import SocialAccount

        return SocialAccount.objects.filter(provider=self.provider_id).count()


class SsoDomain(models.Model):
    """An email domain whose people sign in through one org's IdP; a domain belongs to one
    org only."""

    domain = models.CharField(max_length=253, unique=True)
    config = models.ForeignKey(SsoConfig, on_delete=models.CASCADE, related_name="domains")

    def __str__(self) -> str:
        return self.domain
