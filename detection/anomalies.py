"""Anomaly detectors: each reads one org's recent sessions and events and returns findings.

A scan (``scan_org``) runs every detector of one org inside one transaction with a
statement timeout, so a slow org cannot hold up the others, and hands the findings to
``detection.alerts.raise_alert`` (one unresolved alert per detector and subject). The
thresholds are the org's ``ScanSettings``.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from audit.models import AuditEvent
from orgs.models import Organization
from sessions.models import MqttSession
from users.models import MqttUser

from .models import Detector, ScanSettings, Severity

log = logging.getLogger(__name__)

EVIDENCE = 10  # items kept per finding
STATEMENT_TIMEOUT_MS = 10_000
# How far back detectors that look at "new" sessions read: at least one scan interval,
# with room for a scan that ran late.
RECENT = timedelta(minutes=3)


@dataclass
class Finding:
    detector: str
    subject: str
    severity: str
    summary: str
    latest_at: datetime
    evidence: list[dict] = field(default_factory=list)
    # The MQTT user an automatic response would act on, if any.
    user_id: str | None = None
    respond: bool = False


def event_evidence(events) -> list[dict]:
    return [
        {
            "kind": "event",
            "id": e.pk,
            "seq": e.seq,  # its URL: the place in the org's chain
            "label": f"{e.action} {e.actor_label}".strip(),
            "at": e.at.isoformat(),
        }
        for e in events.order_by("-at", "-id")[:EVIDENCE]
    ]


def session_evidence(sessions) -> list[dict]:
    return [
        {
            "kind": "session",
            "id": s.pk,
            "label": f"{s.client_id} from {s.peer_ip or 'unknown'} over {s.transport or '?'}",
            "client_id": s.client_id,
            "at": s.connected_at.isoformat(),
        }
        for s in sessions.order_by("-connected_at", "-id")[:EVIDENCE]
    ]


def _grouped(rows, key: str, threshold: int):
    return rows.values(key).annotate(n=Count("id"), latest=Max("at")).filter(n__gte=threshold).order_by(key)


def brute_force(org, cfg: ScanSettings, now: datetime) -> list[Finding]:
    """Many authentication failures for one username, or from one address, in the window."""
    since = now - timedelta(minutes=cfg.brute_force_minutes)
    failures = AuditEvent.objects.filter(org=org, action="auth.failure", at__gte=since)
    findings = []
    for row in _grouped(failures, "actor_label", cfg.brute_force_failures):
        username = row["actor_label"]
        theirs = failures.filter(actor_label=username)
        first = theirs.aggregate(first=Min("at"))["first"]
        successes = AuditEvent.objects.filter(
            org=org, action="auth.success", actor_label=username, at__gt=first
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
                Detector.BRUTE_FORCE,
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
    for row in _grouped(failures.exclude(peer_ip=None), "peer_ip", cfg.brute_force_failures):
        address = row["peer_ip"]
        findings.append(
            Finding(
                Detector.BRUTE_FORCE,
                f"address {address}",
                Severity.HIGH,
                f"{row['n']} failed authentications from {address} in {cfg.brute_force_minutes} min",
                row["latest"],
                event_evidence(failures.filter(peer_ip=address)),
            )
        )
    return findings


def shared_credentials(org, cfg: ScanSettings, now: datetime) -> list[Finding]:
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
            Detector.SHARED_CREDENTIALS,
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


def network_of(address: str, by_subnet: bool) -> str:
    ip = ipaddress.ip_address(address)
    if not by_subnet:
        return str(ip)
    prefix = 24 if ip.version == 4 else 64
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def new_address(org, cfg: ScanSettings, now: datetime) -> list[Finding]:
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
            Detector.NEW_ADDRESS,
            f"user {username} from {network}",
            Severity.LOW,
            f"{username} connected from {address}, not seen for it in {cfg.new_address_days} days",
            sessions.aggregate(latest=Max("connected_at"))["latest"],
            session_evidence(sessions),
        )
    return list(findings.values())


def flapping(org, cfg: ScanSettings, now: datetime) -> list[Finding]:
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
            Detector.FLAPPING,
            f"client {row['client_id']} of {row['username']}",
            Severity.MEDIUM,
            f"{row['client_id']} connected {row['n']} times in {cfg.flapping_minutes} min",
            row["latest"],
            session_evidence(sessions.filter(username=row["username"], client_id=row["client_id"])),
        )
        for row in rows
    ]


def _per_actor(events, detector: str, threshold: int, subject, summary) -> list[Finding]:
    """A finding per actor with at least ``threshold`` of ``events`` (already windowed)."""
    return [
        Finding(
            detector,
            subject(row["actor_label"]),
            Severity.MEDIUM,
            summary(row["actor_label"], row["n"]),
            row["latest"],
            event_evidence(events.filter(actor_label=row["actor_label"])),
        )
        for row in _grouped(events, "actor_label", threshold)
    ]


def acl_denials(org, cfg: ScanSettings, now: datetime) -> list[Finding]:
    """A user whose publishes and subscribes the broker refused many times in the window."""
    since = now - timedelta(minutes=cfg.acl_denial_minutes)
    denials = AuditEvent.objects.filter(org=org, action="mqtt.acl_denied", at__gte=since)
    return _per_actor(
        denials,
        Detector.ACL_DENIALS,
        cfg.acl_denials,
        lambda label: f"user {label}",
        lambda label, n: f"{n} publishes or subscribes of {label} denied in {cfg.acl_denial_minutes} min",
    )


def mint_spike(org, cfg: ScanSettings, now: datetime) -> list[Finding]:
    """An API key minting many tokens in the window (a leaked key, or a loop in a backend)."""
    since = now - timedelta(minutes=cfg.mint_minutes)
    mints = AuditEvent.objects.filter(org=org, action="token.minted", actor_type="api_key", at__gte=since)
    return _per_actor(
        mints,
        Detector.MINT_SPIKE,
        cfg.mint_tokens,
        lambda label: f"API key {label}",
        lambda label, n: f"API key {label} minted {n} tokens in {cfg.mint_minutes} min",
    )


def dormant(org, cfg: ScanSettings, now: datetime) -> list[Finding]:
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
                Detector.DORMANT,
                f"user {user.username}",
                Severity.LOW,
                f"The secret of {user.username} is {last} (over {cfg.dormant_days} days): "
                "rotate it or delete the user",
                user.last_seen_at or user.secret_created_at,
                [{"kind": "user", "id": user.pk, "label": user.username, "name": user.name}],
            )
        )
    return findings


def permanent_over_wss(org, cfg: ScanSettings, now: datetime) -> list[Finding]:
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
            Detector.PERMANENT_OVER_WSS,
            f"user {row['username']}",
            Severity.MEDIUM,
            f"{row['username']} connected over WebSocket with its permanent secret: "
            "browsers should use tokens",
            row["latest"],
            session_evidence(sessions.filter(username=row["username"])),
        )
        for row in rows
    ]


DETECTORS: dict[str, Callable] = {
    Detector.BRUTE_FORCE: brute_force,
    Detector.SHARED_CREDENTIALS: shared_credentials,
    Detector.NEW_ADDRESS: new_address,
    Detector.FLAPPING: flapping,
    Detector.ACL_DENIALS: acl_denials,
    Detector.MINT_SPIKE: mint_spike,
    Detector.DORMANT: dormant,
    Detector.PERMANENT_OVER_WSS: permanent_over_wss,
}


def settings_of(org) -> ScanSettings:
    cfg, _ = ScanSettings.objects.get_or_create(org=org)
    return cfg


def scan_org(org, *, now: datetime | None = None) -> list:
    """Run every detector on one org, raise or refresh its alerts; returns the alerts touched."""
    from .alerts import raise_alert

    now = now or timezone.now()
    started = time.monotonic()
    cfg = settings_of(org)
    touched = []
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")
        for detect in DETECTORS.values():
            for finding in detect(org, cfg, now):
                touched.append(raise_alert(org, finding, cfg=cfg, now=now))
    ScanSettings.objects.filter(pk=org.pk).update(
        last_scan_at=now, last_scan_ms=int((time.monotonic() - started) * 1000)
    )
    return [alert for alert in touched if alert is not None]


def scan_all(*, now: datetime | None = None) -> int:
    """Scan each org on its own; one org's failure (or timeout) is logged, the rest go on."""

    alerts = 0
    for org in Organization.objects.order_by("pk").iterator():
        try:
            alerts += len(scan_org(org, now=now))
        except Exception:
            log.exception("anomaly scan of %s failed", org.pk)
    return alerts
