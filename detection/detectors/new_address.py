from __future__ import annotations

import ipaddress
from datetime import timedelta

from django.db.models import Max

from sessions.models import MqttSession

from ..models import Severity
from ..registry import RECENT, Finding, Setting, register, session_evidence

KEY = "new_address"


def network_of(address: str, by_subnet: bool) -> str:
    ip = ipaddress.ip_address(address)
    if not by_subnet:
        return str(ip)
    prefix = 24 if ip.version == 4 else 64
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


@register(
    KEY,
    "New address",
    position=30,
    settings=(
        Setting("new_address_days", "New address: not seen for days", 30, 1, 365),
        Setting(
            "new_address_by_subnet",
            "Compare networks (/24, /64), not single addresses",
            True,
            help="Compare /24 (IPv4) or /64 (IPv6).",
        ),
    ),
)
def detect(org, cfg, now) -> list[Finding]:
    """A user connecting from an address (or /24) not seen for it in the last N days.
    A user's very first connections are not news: it needs a history to differ from."""
    since = now - RECENT
    recent = MqttSession.objects.filter(org=org, connected_at__gte=since, user__isnull=False).exclude(
        peer_ip=None
    )
    pairs = set(recent.values_list("user_id", "username", "peer_ip").distinct())
    if not pairs:
        return []
    history = (
        MqttSession.objects.filter(
            org=org,
            user_id__in={p[0] for p in pairs},
            connected_at__gte=now - timedelta(days=cfg.new_address_days),
            connected_at__lt=since,
        )
        .exclude(peer_ip=None)
        .values_list("user_id", "peer_ip")
        .distinct()
    )
    known: dict[str, set[str]] = {}
    for user_id, address in history:
        known.setdefault(user_id, set()).add(network_of(address, cfg.new_address_by_subnet))
    findings = {}
    for user_id, username, address in sorted(pairs):
        network = network_of(address, cfg.new_address_by_subnet)
        if user_id not in known or network in known[user_id]:
            continue
        sessions = recent.filter(user_id=user_id, peer_ip=address)
        findings[(username, network)] = Finding(
            KEY,
            f"user {username} from {network}",
            Severity.LOW,
            f"{username} connected from {address}, not seen for it in {cfg.new_address_days} days",
            sessions.aggregate(latest=Max("connected_at"))["latest"],
            session_evidence(sessions),
        )
    return list(findings.values())
