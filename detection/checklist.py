"""The security checklist on the Overview: each item pass / warn / fail, with where to fix it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from itertools import groupby

from django.urls import reverse
from django.utils import timezone

from acls.lint import lint_rules, score
from acls.models import AclRule
from sessions.models import MqttSession
from users.models import MqttUser

from .detectors import permanent_over_wss, shared_credentials
from .models import Alert, AlertStatus, ScanSettings

PASS, WARN, FAIL = "pass", "warn", "fail"
PENDING = "pending"  # not yet known: a new org before its first scan
LINT_OWNERS = 500  # rule owners linted per checklist (the worst of them counts)


@dataclass(frozen=True)
class Item:
    title: str
    state: str
    detail: str
    link: str
    link_label: str


def _url(name: str, org, query: str = "") -> str:
    return reverse(name, kwargs={"org_id": org.pk}) + (f"?{query}" if query else "")


def _unresolved(org, detector: str):
    return Alert.objects.filter(org=org, detector=detector).unresolved()


def tls(org, now) -> Item:
    week = MqttSession.objects.filter(org=org, connected_at__gte=now - timedelta(days=7))
    total = week.count()
    plain = week.filter(transport__in=["mqtt", "ws"]).count()
    link = _url("sessions:list", org, "transport=mqtt")
    if total == 0:
        return Item(
            "Connections use TLS", WARN, "No connection in the last 7 days to judge by.", link, "Sessions"
        )
    share = plain / total
    state = PASS if plain == 0 else WARN if share < 0.1 else FAIL
    detail = f"{share:.0%} of {total} connections in the last 7 days used plain MQTT (port 1883 or ws)."
    return Item("Connections use TLS", state, detail, link, "Plain connections")


def unique_credentials(org, now) -> Item:
    open_alerts = _unresolved(org, shared_credentials.KEY).count()
    link = _url("alerts:list", org, f"detector={shared_credentials.KEY}")
    if open_alerts:
        detail = f"{open_alerts} shared-credential alert(s) open: give each client its own MQTT user."
        return Item("Each client has its own credentials", FAIL, detail, link, "Alerts")
    return Item(
        "Each client has its own credentials", PASS, "No credential is in use twice at once.", link, "Alerts"
    )


def least_privilege(org, now) -> Item:
    rules = (
        AclRule.objects.filter(org=org)
        .order_by("user_id", "rule_set_id", "position")
        .values_list("user_id", "rule_set_id", "permission", "action", "topic")
    )
    worst, owners, whole = 100, 0, 0
    for _, group in groupby(rules.iterator(), key=lambda r: (r[0], r[1])):
        owned = [(p, a, t) for _, _, p, a, t in group]
        whole += sum(1 for p, _, t in owned if p == "allow" and t in ("#", "+/#"))
        owners += 1
        if owners <= LINT_OWNERS:
            worst = min(worst, score(lint_rules(owned)))
    link = _url("acls:index", org)
    if whole:
        detail = f"{whole} rule(s) allow the whole namespace (#): narrow them to what each client needs."
        return Item("ACLs are least-privilege", FAIL, detail, link, "ACLs")
    if owners == 0:
        return Item("ACLs are least-privilege", PASS, "No rule yet: everything is denied.", link, "ACLs")
    state = PASS if worst >= 80 else WARN if worst >= 50 else FAIL
    return Item("ACLs are least-privilege", state, f"Lowest ACL lint score: {worst}/100.", link, "ACLs")


def browser_tokens(org, now) -> Item:
    open_alerts = _unresolved(org, permanent_over_wss.KEY).count()
    seen = (
        MqttSession.objects.filter(
            org=org, connected_at__gte=now - timedelta(days=7), transport__in=["ws", "wss"], token_id=""
        )
        .values("username")
        .distinct()
        .count()
    )
    link = _url("alerts:list", org, f"detector={permanent_over_wss.KEY}")
    if open_alerts or seen:
        detail = (
            f"{seen} user(s) connected over WebSocket with a permanent secret in the last 7 days: "
            "browsers should connect with temporary tokens."
        )
        return Item("Browser apps use temporary tokens", FAIL, detail, link, "Alerts")
    detail = "No permanent secret seen over WebSocket in the last 7 days."
    return Item("Browser apps use temporary tokens", PASS, detail, _url("tokens:list", org), "Tokens")


def rotation(org, now) -> Item:
    oldest = MqttUser.objects.filter(org=org, enabled=True).order_by("secret_created_at").first()
    link = _url("users:list", org)
    if oldest is None:
        return Item("Credentials are rotated", PASS, "No MQTT user yet.", link, "MQTT users")
    age = (now - oldest.secret_created_at).days
    state = PASS if age < 90 else WARN if age < 365 else FAIL
    detail = f"The oldest permanent secret ({oldest.username}) is {age} day(s) old."
    return Item("Credentials are rotated", state, detail, link, "MQTT users")


def monitored(org, now) -> Item:
    cfg = ScanSettings.objects.filter(org=org).first()
    link = _url("alerts:list", org)
    never_scanned = cfg is None or cfg.last_scan_at is None
    if never_scanned and now - org.created_at < timedelta(minutes=5):
        detail = "The first anomaly scan runs within a minute of the organization's creation."
        return Item("Session history is monitored", PENDING, detail, link, "Alerts")
    if never_scanned or now - cfg.last_scan_at > timedelta(minutes=5):
        detail = (
            "The anomaly scans have not run in the last 5 minutes: tell your operator "
            "(the scheduler may be down)."
        )
        return Item("Session history is monitored", FAIL, detail, link, "Alerts")
    stale = Alert.objects.filter(
        org=org, status=AlertStatus.OPEN, first_seen__lt=now - timedelta(days=7)
    ).count()
    if stale:
        detail = f"{stale} alert(s) open for more than 7 days: acknowledge or resolve them."
        return Item("Session history is monitored", WARN, detail, link, "Open alerts")
    detail = f"Last scan {int((now - cfg.last_scan_at).total_seconds())} s ago; no alert left unattended."
    return Item("Session history is monitored", PASS, detail, link, "Alerts")


CHECKS = (tls, unique_credentials, least_privilege, browser_tokens, rotation, monitored)


def checklist(org) -> list[Item]:
    now = timezone.now()
    return [check(org, now) for check in CHECKS]
