from __future__ import annotations

from datetime import timedelta

from django.db.models import Min

from audit.models import Action, AuditEvent

from ..models import Severity
from ..registry import Finding, Setting, event_evidence, grouped, register

KEY = "brute_force"


@register(
    KEY,
    "Brute force",
    position=10,
    settings=(
        Setting("brute_force_failures", "Brute force: failures", 10, 2, 100_000),
        Setting("brute_force_minutes", "… within minutes", 5, 1, 1440),
        Setting(
            "brute_force_disable_user",
            "Disable the user when a success follows a brute force",
            False,
            help="Disable the MQTT user when a brute force is followed by a success.",
        ),
    ),
)
def detect(org, cfg, now) -> list[Finding]:
    """Many authentication failures for one username, or from one address, in a few minutes;
    optionally the user is disabled when a success from a failing address follows."""
    since = now - timedelta(minutes=cfg.brute_force_minutes)
    failures = AuditEvent.objects.filter(org=org, action=Action.AUTH_FAILURE, at__gte=since)
    findings = []
    for row in grouped(failures, "actor_label", cfg.brute_force_failures):
        username = row["actor_label"]
        theirs = failures.filter(actor_label=username)
        first = theirs.aggregate(first=Min("at"))["first"]
        successes = AuditEvent.objects.filter(
            org=org, action=Action.AUTH_SUCCESS, actor_label=username, at__gt=first
        ).order_by("at")
        # Only a success from an address that failed is the guesser getting in; the real
        # device succeeding from its own address is not (anyone could otherwise have it
        # disabled by failing against its username from anywhere).
        failed_from = theirs.exclude(peer_ip=None).values("peer_ip")
        success = successes.filter(peer_ip__in=failed_from).first()
        summary = f"{row['n']} failed authentications for {username} in {cfg.brute_force_minutes} min"
        if success is not None:
            summary += ", then a success from an address that failed"
        elif successes.exists():
            summary += "; the successes since came from other addresses"
        findings.append(
            Finding(
                KEY,
                f"user {username}",
                Severity.HIGH,
                summary,
                row["latest"],
                event_evidence(theirs)
                + (event_evidence(AuditEvent.objects.filter(pk=success.pk)) if success else []),
                user_id=(success.actor_id or None) if success else None,
                respond=success is not None,
            )
        )
    for row in grouped(failures.exclude(peer_ip=None), "peer_ip", cfg.brute_force_failures):
        address = row["peer_ip"]
        findings.append(
            Finding(
                KEY,
                f"address {address}",
                Severity.HIGH,
                f"{row['n']} failed authentications from {address} in {cfg.brute_force_minutes} min",
                row["latest"],
                event_evidence(failures.filter(peer_ip=address)),
            )
        )
    return findings
