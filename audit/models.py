"""Audit events: who did what to what, from where and when, per organization."""

from __future__ import annotations

from django.db import models


class ActorType(models.TextChoices):
    MEMBER = "member", "Member"
    API_KEY = "api_key", "API key"
    MQTT_USER = "mqtt_user", "MQTT user"
    SYSTEM = "system", "System"


class Action(models.TextChoices):
    """Everything the audit log records: ``record_event`` refuses any other action (a typo
    would otherwise be a new, unfiltered kind of event). A new one is a line here."""

    AUTH_SUCCESS = "auth.success", "MQTT authentication succeeded"
    AUTH_FAILURE = "auth.failure", "MQTT authentication failed"
    MQTT_CONNECT_REFUSED = "mqtt.connect_refused", "Connection refused by the broker"
    MQTT_ACL_DENIED = "mqtt.acl_denied", "Publish or subscribe denied by the ACL"
    MQTT_SESSION_DISCONNECTED = "mqtt.session_disconnected", "Client disconnected by an admin"
    MQTT_USER_CREATED = "mqtt_user.created", "MQTT user created"
    MQTT_USER_UPDATED = "mqtt_user.updated", "MQTT user changed"
    MQTT_USER_ENABLED = "mqtt_user.enabled", "MQTT user enabled"
    MQTT_USER_DISABLED = "mqtt_user.disabled", "MQTT user disabled"
    MQTT_USER_SECRET_ROTATED = "mqtt_user.secret_rotated", "MQTT user's secret rotated"
    MQTT_USER_DELETED = "mqtt_user.deleted", "MQTT user deleted"
    TOKEN_MINTED = "token.minted", "Token minted"
    TOKEN_REVOKED = "token.revoked", "Token revoked"
    TOKEN_EXPIRED = "token.expired", "Token expired"
    ACL_USER_SAVED = "acl.user_saved", "User's ACL saved"
    ACL_RULE_SET_CREATED = "acl.rule_set_created", "Rule set created"
    ACL_RULE_SET_SAVED = "acl.rule_set_saved", "Rule set saved"
    ACL_RULE_SET_DELETED = "acl.rule_set_deleted", "Rule set deleted"
    ORG_CREATED = "org.created", "Organization created"
    ORG_UPDATED = "org.updated", "Organization settings changed"
    ORG_SSO_CONFIGURED = "org.sso_configured", "Single sign-on configured"
    ORG_SSO_REMOVED = "org.sso_removed", "Single sign-on removed"
    MEMBER_ADDED = "member.added", "Member added"
    MEMBER_ROLE_CHANGED = "member.role_changed", "Member's role changed"
    MEMBER_REMOVED = "member.removed", "Member removed"
    MEMBER_INVITED = "member.invited", "Member invited"
    MEMBER_INVITATION_WITHDRAWN = "member.invitation_withdrawn", "Invitation withdrawn"
    MEMBER_INVITATION_DECLINED = "member.invitation_declined", "Invitation declined"
    ACCOUNT_FACTOR_ADDED = "account.factor_added", "Second factor added"
    ACCOUNT_FACTOR_REMOVED = "account.factor_removed", "Second factor removed"
    ACCOUNT_FACTOR_RESET = "account.factor_reset", "Recovery codes renewed"
    API_KEY_CREATED = "api_key.created", "API key created"
    API_KEY_REVOKED = "api_key.revoked", "API key revoked"
    ALERT_OPENED = "alert.opened", "Alert opened"
    ALERT_ACKNOWLEDGED = "alert.acknowledged", "Alert acknowledged"
    ALERT_RESOLVED = "alert.resolved", "Alert resolved"
    ALERT_RESPONDED = "alert.responded", "Acted on from an alert"
    DETECTION_UPDATED = "detection.updated", "Detection settings changed"
    DETECTION_WEBHOOK_TESTED = "detection.webhook_tested", "Webhook test sent"
    AUDIT_PURGED = "audit.purged", "Old events purged (retention)"


ACTION_GROUPS = {  # an action's prefix (its first part and the dot) and what the log calls the group
    "auth.": "MQTT authentication",
    "mqtt.": "Broker decisions",
    "mqtt_user.": "MQTT users",
    "token.": "Tokens",
    "acl.": "ACLs",
    "org.": "Organization",
    "member.": "Members",
    "account.": "Members' accounts",
    "api_key.": "API keys",
    "alert.": "Alerts",
    "detection.": "Detection settings",
    "audit.": "Audit log",
}


def action_groups() -> list[tuple[str, str, list[Action]]]:
    """The log's action filter: each group's prefix and label, and its actions."""
    return [
        (prefix, label, [a for a in Action if a.value.startswith(prefix)])
        for prefix, label in ACTION_GROUPS.items()
    ]


class SubjectType(models.TextChoices):
    """What an event is about; ``record_event`` refuses any other type."""

    NONE = "", "—"
    MQTT_USER = "mqtt_user", "MQTT user"
    TOKEN = "token", "Token"
    RULE_SET = "rule_set", "Rule set"
    MQTT_SESSION = "mqtt_session", "MQTT session"
    ORGANIZATION = "organization", "Organization"
    MEMBERSHIP = "membership", "Member"
    INVITATION = "invitation", "Invitation"
    ACCOUNT = "account", "Dashboard account"
    API_KEY = "api_key", "API key"
    ALERT = "alert", "Alert"
    AUDIT_LOG = "audit_log", "Audit log"


def label_of(choices: type[models.TextChoices], value: str) -> str:
    """A value's label, or the value itself for one recorded before it had a label (the
    chain keeps old events as they were written)."""
    try:
        return choices(value).label
    except ValueError:
        return value


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

    @property
    def action_label(self) -> str:
        return label_of(Action, self.action)

    @property
    def subject_type_label(self) -> str:
        return label_of(SubjectType, self.subject_type)


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


def organizations():
    """The org model's manager, read from the log's foreign key: the audit log is the bottom
    layer, so it names the model its rows belong to without importing the app above it."""
    return AuditEvent._meta.get_field("org").related_model._default_manager
