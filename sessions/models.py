"""MQTT sessions as the broker reports them, the live count per org, and the revocation
feed the broker acts on (DESIGN §3, §6).

Written by the broker's events (``broker.events``) and read by the Sessions page and API;
the revocation feed is appended by every service whose change ends or narrows a live
session (users, tokens, ACLs, an admin's Disconnect) in the same transaction.
"""

from __future__ import annotations

from django.db import models


class Transport(models.TextChoices):
    MQTT = "mqtt", "MQTT (plain)"
    MQTTS = "mqtts", "MQTT over TLS"
    WS = "ws", "WebSocket"
    WSS = "wss", "WebSocket over TLS"


PROTOCOLS = {"3": "MQTT 3.1", "4": "MQTT 3.1.1", "5": "MQTT 5.0"}


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
    # What the client asked for in its CONNECT (null: the broker did not say).
    keepalive = models.PositiveIntegerField(null=True, blank=True, help_text="Seconds; 0 is none.")
    clean_start = models.BooleanField(null=True, blank=True)
    expiry_interval = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="MQTT 5 session expiry, seconds."
    )
    connected_at_ms = models.BigIntegerField()
    connected_at = models.DateTimeField(db_index=True)
    disconnected_at = models.DateTimeField(null=True, blank=True)
    disconnect_reason = models.CharField(max_length=64, blank=True)

    class Meta:
        db_table = "audit_mqttsession"  # where it was born; the move to this app is state only
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

    @property
    def protocol(self) -> str:
        """The MQTT version in words ('MQTT 3.1.1'), from the CONNECT's protocol level."""
        return PROTOCOLS.get(self.proto_ver, self.proto_ver and f"level {self.proto_ver}")


class Subscription(models.Model):
    """A topic filter a connection subscribed to, as the broker granted it (its
    ``session.subscribed`` and ``session.unsubscribed`` events). Kept after the connection
    ends: what a client listened to is part of its history."""

    session = models.ForeignKey(MqttSession, on_delete=models.CASCADE, related_name="subscriptions")
    topic = models.CharField(max_length=1024)
    qos = models.PositiveSmallIntegerField(default=0)
    subscribed_at = models.DateTimeField()

    class Meta:
        db_table = "sessions_subscription"
        constraints = [
            models.UniqueConstraint(fields=["session", "topic"], name="session_subscription_topic"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} (QoS {self.qos})"


class LiveConnections(models.Model):
    """How many of the org's MQTT sessions are open, as of the broker's last events.

    ``broker.events`` recounts it in the transaction that opens or closes sessions, so the
    broker's authn hook reads one row for the connection quota instead of counting the
    org's open sessions on every CONNECT (2 ms for 10,000 of them).
    """

    org = models.OneToOneField(
        "orgs.Organization", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    live = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "audit_liveconnections"

    def __str__(self) -> str:
        return f"{self.org_id}: {self.live} live"


class RevocationKind(models.TextChoices):
    DISCONNECT = "disconnect", "Disconnect"
    REFRESH = "refresh", "Refresh ACL"


class Revocation(models.Model):
    org = models.ForeignKey("orgs.Organization", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=RevocationKind.choices)
    # The full MQTT username (name@org_id); kept as text, it outlives a deleted user.
    username = models.CharField(max_length=100)
    # Set when only the sessions authenticated with this token are concerned.
    token_id = models.CharField(max_length=32, blank=True)
    # Set when only this client's connection is concerned (an admin's Disconnect button).
    client_id = models.CharField(max_length=256, blank=True)
    reason = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "broker_revocation"
        indexes = [models.Index(fields=["org", "id"], name="revocation_org_cursor_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.username} ({self.reason})"


class FeedCursor(models.Model):
    """How far a follower of the revocation feed has applied it (the EMQX relay): kept, so a
    restart neither replays nor skips."""

    name = models.CharField(primary_key=True, max_length=64)
    position = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "broker_feedcursor"

    def __str__(self) -> str:
        return f"{self.name} at #{self.position}"
