from __future__ import annotations

from django.db.models import Count, Max, Q

from sessions.models import MqttSession

from ..models import Severity
from ..registry import Finding, Setting, register, session_evidence

KEY = "shared_credentials"


@register(
    KEY,
    "Shared credentials",
    position=20,
    settings=(Setting("shared_credentials", "Alert on a credential connected twice at once", True),),
)
def detect(org, cfg, now) -> list[Finding]:
    """One permanent credential connected from two addresses, or as two client ids, at once.
    (Tokens are left out: a user's tokens serve many browsers by design.)"""
    if not cfg.shared_credentials:
        return []
    live = MqttSession.objects.filter(org=org, disconnected_at__isnull=True, token_id="")
    rows = (
        live.values("username")
        .annotate(
            addresses=Count("peer_ip", distinct=True),
            clients=Count("client_id", distinct=True),
            latest=Max("connected_at"),
        )
        .filter(Q(addresses__gte=2) | Q(clients__gte=2))
        .order_by("username")
    )
    return [
        Finding(
            KEY,
            f"user {row['username']}",
            Severity.MEDIUM,
            f"{row['username']} is connected {row['clients']} times at once "
            f"from {row['addresses']} address{'es' if row['addresses'] != 1 else ''}",
            row["latest"],
            session_evidence(live.filter(username=row["username"])),
            user_id=None,
        )
        for row in rows
    ]
