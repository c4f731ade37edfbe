"""ACL rules, rule sets and revisions. Rules are stored relative to the org namespace."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models

from .policy import ACTIONS, PERMISSIONS

RULE_SET_NAME_PATTERN = r"[a-z0-9._-]{1,64}"
rule_set_name_validator = RegexValidator(
    rf"^{RULE_SET_NAME_PATTERN}\Z",
    "Use 1 to 64 characters: lowercase letters, digits, dot, underscore and hyphen.",
)


class RuleSet(models.Model):
    """A named, ordered list of rules of one org (think "role"), assignable to many users."""

    org = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="rule_sets")
    name = models.CharField(max_length=64, validators=[rule_set_name_validator])
    description = models.CharField(max_length=500, blank=True)
    # Optimistic locking: every save of the rules increments it.
    revision = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "name"], name="rule_set_unique_name_per_org")]

    def __str__(self) -> str:
        return self.name


class AclRule(models.Model):
    """One rule, owned either by an MQTT user (its own rules) or by a rule set."""

    org = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey("users.MqttUser", on_delete=models.CASCADE, null=True, related_name="acl_rules")
    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, null=True, related_name="rules")
    position = models.PositiveIntegerField()
    permission = models.CharField(max_length=8, choices=[(p, p) for p in PERMISSIONS])
    action = models.CharField(max_length=16, choices=[(a, a) for a in ACTIONS])
    topic = models.TextField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=True) ^ models.Q(rule_set__isnull=True),
                name="acl_rule_has_one_owner",
            ),
            models.UniqueConstraint(fields=["user", "position"], name="acl_rule_user_position"),
            models.UniqueConstraint(fields=["rule_set", "position"], name="acl_rule_set_position"),
        ]

    def __str__(self) -> str:
        return f"{self.position + 1}. {self.permission} {self.action} {self.topic}"

    def as_dict(self) -> dict:
        return {"permission": self.permission, "action": self.action, "topic": self.topic}


class RuleSetAssignment(models.Model):
    """A rule set assigned to a user, at a position among the user's rule sets."""

    user = models.ForeignKey("users.MqttUser", on_delete=models.CASCADE, related_name="rule_set_assignments")
    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="assignments")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["user", "rule_set"], name="rule_set_assigned_once"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_set_id} -> {self.user_id} at {self.position}"


class AclRevision(models.Model):
    """A full snapshot of a user's ACL or a rule set, made by every save."""

    org = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        "users.MqttUser", on_delete=models.CASCADE, null=True, related_name="acl_revisions"
    )
    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, null=True, related_name="revisions")
    number = models.PositiveIntegerField()
    # {"rules": [{"permission", "action", "topic"}, ...], "rule_sets": [names]} (users only)
    snapshot = models.JSONField()
    author = models.CharField(max_length=254)
    comment = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["user", "number"], name="acl_revision_user_number"),
            models.UniqueConstraint(fields=["rule_set", "number"], name="acl_revision_set_number"),
        ]

    def __str__(self) -> str:
        return f"revision {self.number} by {self.author}"
