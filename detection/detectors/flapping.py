from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Max

from sessions.models import MqttSession

from ..models import Severity
from ..registry import Finding, Setting, register, session_evidence

KEY = "flapping"


@register(
    KEY,
    "Flapping client",
    position=40,
    settings=(
        Setting("flapping_connects", "Flapping: connects of one client", 10, 2, 100_000),
        Setting("flapping_minutes", "… within minutes", 5, 1, 1440),
    ),
)
def detect(org, cfg, now) -> list[Finding]:
    """Many connects of one client in a few minutes: a reconnect loop, or two devices
    fighting over one client id."""
    since = now - timedelta(minutes=cfg.flapping_minutes)
    sessions = MqttSession.objects.filter(org=org, connected_at__gte=since)
    rows = (
        sessions.values("username", "client_id")
        .annotate(n=Count("id"), latest=Max("connected_at"))
        .filter(n__gte=cfg.flapping_connects)
        .order_by("username", "client_id")
    )
    return [
        Finding(
            KEY,
            f"client {row['client_id']} of {row['username']}",
            Severity.MEDIUM,
            f"{row['client_id']} connected {row['n']} times in {cfg.flapping_minutes} min",
            row["latest"],
            session_evidence(sessions.filter(username=row["username"], client_id=row["client_id"])),
        )
        for row in rows
    ]
