from __future__ import annotations

from django.db.models import Count, Max

from sessions.models import MqttSession

from ..models import Severity
from ..registry import RECENT, Finding, Setting, register, session_evidence

KEY = "permanent_over_wss"


@register(
    KEY,
    "Permanent secret over WebSocket",
    position=80,
    settings=(Setting("permanent_over_wss", "Alert on a permanent secret used over WebSocket", True),),
)
def detect(org, cfg, now) -> list[Finding]:
    """A permanent secret used over WebSocket: a browser app should mint temporary tokens."""
    if not cfg.permanent_over_wss:
        return []
    sessions = MqttSession.objects.filter(
        org=org, connected_at__gte=now - RECENT, transport__in=["ws", "wss"], token_id=""
    )
    rows = (
        sessions.values("username").annotate(n=Count("id"), latest=Max("connected_at")).order_by("username")
    )
    return [
        Finding(
            KEY,
            f"user {row['username']}",
            Severity.MEDIUM,
            f"{row['username']} connected over WebSocket with its permanent secret: "
            "browsers should use tokens",
            row["latest"],
            session_evidence(sessions.filter(username=row["username"])),
        )
        for row in rows
    ]
