"""Audit events: who did what to what, from where and when, per organization."""

from __future__ import annotations

from django.db import models


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

    org = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(db_index=True)
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

    class Meta:
        indexes = [
            # The audit log reads newest first within one org; keyset on (at, id).
            models.Index(fields=["org", "-at", "-id"], name="audit_org_at_idx"),
            models.Index(fields=["org", "action", "-at"], name="audit_org_action_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.subject_label}"


class Transport(models.TextChoices):
    MQTT = "mqtt", "MQTT (plain)"
    MQTTS = "mqtts", "MQTT over TLS"
    WS = "ws", "WebSocket"
    WSS = "wss", "WebSocket over TLS"


class MqttSession(models.Model):
    """One MQTT connection, as the broker reported it (DESIGN §3).

    A connection is identified by the broker node, the client id and the time it
    connected (milliseconds), so repeated or out-of-order events land on one row.
    """

    org = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey("users.MqttUser", on_delete=models.SET_NULL, null=True, related_name="sessions")
    username = models.CharField(max_length=100)  # kept when the user is deleted
    token_id = models.CharField(max_length=32, blank=True)
    client_id = models.CharField(max_length=256)
    node = models.CharField(max_length=128, blank=True)
    peer_ip = models.GenericIPAddressField(null=True, blank=True)
    peer_port = models.PositiveIntegerField(null=True, blank=True)
    transport = models.CharField(max_length=8, choices=Transport.choices, blank=True)
    proto_ver = models.CharField(max_length=8, blank=True)
    connected_at_ms = models.BigIntegerField()
    connected_at = models.DateTimeField(db_index=True)
    disconnected_at = models.DateTimeField(null=True, blank=True)
    disconnect_reason = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["node", "client_id", "connected_at_ms"], name="mqtt_session_identity"
            ),
        ]
        indexes = [
            models.Index(fields=["org", "-connected_at"], name="mqtt_session_org_time_idx"),
            models.Index(
                fields=["org"], name="mqtt_session_open_idx", condition=models.Q(disconnected_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.username} {self.client_id} @ {self.connected_at:%Y-%m-%d %H:%M:%S}"
