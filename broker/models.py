"""What the broker must act on: the revocation feed (DESIGN §6).

Each row is one instruction, ordered by its id (the feed's cursor): disconnect the live
sessions of a user or a token, or refresh a user's ACL. Services append rows in the same
transaction as the change that causes them; the broker hook API serves them.
"""

from __future__ import annotations

from django.db import models


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
        indexes = [models.Index(fields=["org", "id"], name="revocation_org_cursor_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.username} ({self.reason})"
