from __future__ import annotations

from datetime import timedelta

from audit.models import Action, AuditEvent

from ..models import Severity
from ..registry import Finding, Setting, per_actor, register

KEY = "mint_spike"


@register(
    KEY,
    "Token minting spike",
    position=60,
    settings=(
        Setting("mint_tokens", "Tokens minted by one API key", 200, 1, 1_000_000),
        Setting("mint_minutes", "… within minutes", 5, 1, 1440),
    ),
)
def detect(org, cfg, now) -> list[Finding]:
    """An API key minting many tokens in a few minutes (a leaked key, or a loop in a backend)."""
    since = now - timedelta(minutes=cfg.mint_minutes)
    mints = AuditEvent.objects.filter(
        org=org, action=Action.TOKEN_MINTED, actor_type="api_key", at__gte=since
    )
    return per_actor(
        mints,
        KEY,
        Severity.MEDIUM,
        cfg.mint_tokens,
        lambda label: f"API key {label}",
        lambda label, n: f"API key {label} minted {n} tokens in {cfg.mint_minutes} min",
    )
