from __future__ import annotations

from datetime import timedelta

from audit.models import Action, AuditEvent

from ..models import Severity
from ..registry import Finding, Setting, per_actor, register

KEY = "acl_denials"


@register(
    KEY,
    "ACL denial spike",
    position=50,
    settings=(
        Setting("acl_denials", "ACL denials of one user", 50, 1, 1_000_000),
        Setting("acl_denial_minutes", "… within minutes", 5, 1, 1440),
    ),
)
def detect(org, cfg, now) -> list[Finding]:
    """A user whose publishes and subscribes the broker refused many times in a few minutes."""
    since = now - timedelta(minutes=cfg.acl_denial_minutes)
    denials = AuditEvent.objects.filter(org=org, action=Action.MQTT_ACL_DENIED, at__gte=since)
    return per_actor(
        denials,
        KEY,
        Severity.MEDIUM,
        cfg.acl_denials,
        lambda label: f"user {label}",
        lambda label, n: f"{n} publishes or subscribes of {label} denied in {cfg.acl_denial_minutes} min",
    )
