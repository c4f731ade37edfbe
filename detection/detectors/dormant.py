from __future__ import annotations

from datetime import timedelta

from django.db.models import Q

from users.models import MqttUser

from ..models import Severity
from ..registry import Finding, Setting, register

KEY = "dormant"


@register(
    KEY,
    "Dormant credentials",
    position=70,
    settings=(Setting("dormant_days", "Dormant: secret unused for days", 90, 7, 3650),),
)
def detect(org, cfg, now) -> list[Finding]:
    """A permanent secret unused for N days: rotate it, or delete the user."""
    cutoff = now - timedelta(days=cfg.dormant_days)
    users = MqttUser.objects.filter(org=org, enabled=True, secret_created_at__lt=cutoff).filter(
        Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=cutoff)
    )
    findings = []
    for user in users.order_by("name")[:500]:
        last = f"last used {user.last_seen_at:%Y-%m-%d}" if user.last_seen_at else "never used"
        findings.append(
            Finding(
                KEY,
                f"user {user.username}",
                Severity.LOW,
                f"The secret of {user.username} is {last} (over {cfg.dormant_days} days): "
                "rotate it or delete the user",
                user.last_seen_at or user.secret_created_at,
                [{"kind": "user", "id": user.pk, "label": user.username, "name": user.name}],
            )
        )
    return findings
