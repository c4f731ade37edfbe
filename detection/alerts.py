"""Alerts: raised by the anomaly scans, acknowledged and resolved by admins (audited).

One alert that is not resolved per org, detector and subject: a finding whose newest
evidence is newer than the alert's ``last_seen`` is a repeat and raises its count. A new
alert is announced to the org's webhook (``detection.webhooks``) once the scan commits.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import Action, SubjectType
from audit.services import Actor, Subject, record_event
from users.models import MqttUser
from users.services import user_update

from .detectors import brute_force
from .models import Alert, AlertStatus, Severity
from .registry import EVIDENCE, Finding, Tuning

RANK = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2}
COMMENT_MAX = 2000


def alert_subject(alert: Alert) -> Subject:
    return Subject(SubjectType.ALERT, alert.pk, f"{alert.detector_label}: {alert.subject}"[:254])


def _merge(old: list[dict], new: list[dict]) -> list[dict]:
    seen, merged = set(), []
    for item in sorted(new + old, key=lambda i: i.get("at", ""), reverse=True):
        key = (item.get("kind"), item.get("id"))
        if key not in seen:
            seen.add(key)
            merged.append(item)
    return merged[: EVIDENCE * 2]


def raise_alert(org, finding: Finding, *, tuning: Tuning, now: datetime) -> Alert | None:
    """Open an alert for the finding, or count a repeat on the open one; None if the finding
    adds nothing to the alert already open."""
    unresolved = Alert.objects.select_for_update().unresolved()
    alert = unresolved.filter(org=org, detector=finding.detector, subject=finding.subject[:300]).first()
    if alert is not None:
        if finding.latest_at <= alert.last_seen:
            return None
        alert.count += 1
        alert.last_seen = finding.latest_at
        alert.summary = finding.summary[:500]
        alert.evidence = _merge(alert.evidence, finding.evidence)
        if RANK[finding.severity] > RANK[alert.severity]:
            alert.severity = finding.severity
        alert.save(update_fields=["count", "last_seen", "summary", "evidence", "severity"])
        _respond(alert, finding, tuning)
        return alert
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                org=org,
                detector=finding.detector,
                subject=finding.subject[:300],
                severity=finding.severity,
                summary=finding.summary[:500],
                evidence=finding.evidence,
                first_seen=finding.latest_at,
                last_seen=finding.latest_at,
            )
    except IntegrityError:  # a concurrent scan opened it first: count this one next time
        return None
    record_event(
        org,
        Action.ALERT_OPENED,
        actor=Actor.system("anomaly scan"),
        subject=alert_subject(alert),
        details={"severity": alert.severity, "summary": alert.summary},
    )
    _respond(alert, finding, tuning)
    from . import webhooks

    webhooks.announce(alert, Action.ALERT_OPENED)
    return alert


def _respond(alert: Alert, finding: Finding, tuning: Tuning) -> None:
    """The automatic responses an org turned on (all off by default)."""
    if not (finding.detector == brute_force.KEY and finding.respond and tuning.brute_force_disable_user):
        return

    user = MqttUser.objects.filter(org_id=alert.org_id, pk=finding.user_id, enabled=True).first()
    if user is None:
        return
    user_update(user=user, enabled=False, actor=Actor.system("anomaly response"))
    alert.response = f"Disabled {user.username}: a success followed the failures."[:300]
    alert.save(update_fields=["response"])


def _comment(comment: str) -> str:
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise ValidationError({"comment": f"Keep the comment under {COMMENT_MAX} characters."})
    return comment


def _move(alert: Alert, actor: Actor, comment: str, request, *, to: str, action: str) -> Alert:
    """Change the alert's status (already checked), keep the comment, audit the change."""
    before = alert.status
    alert.status = to
    by, at = (
        ("acknowledged_by", "acknowledged_at")
        if to == AlertStatus.ACKNOWLEDGED
        else ("resolved_by", "resolved_at")
    )
    setattr(alert, by, actor.label)
    setattr(alert, at, timezone.now())
    alert.comment = "\n".join(c for c in (alert.comment, comment) if c)
    alert.save(update_fields=["status", by, at, "comment"])
    record_event(
        alert.org,
        action,
        actor=actor,
        subject=alert_subject(alert),
        request=request,
        before={"status": before},
        after={"status": alert.status},
        details={"comment": comment},
    )
    return alert


@transaction.atomic
def acknowledge(*, alert: Alert, actor: Actor, comment: str = "", request=None) -> Alert:
    """Someone is on it: open → acknowledged."""
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    comment = _comment(comment)
    if alert.status != AlertStatus.OPEN:
        raise ValidationError(
            {"status": f"Only an open alert can be acknowledged; this one is {alert.status}."}
        )
    return _move(
        alert, actor, comment, request, to=AlertStatus.ACKNOWLEDGED, action=Action.ALERT_ACKNOWLEDGED
    )


@transaction.atomic
def resolve(*, alert: Alert, actor: Actor, comment: str, request=None) -> Alert:
    """Dealt with: open or acknowledged → resolved; a comment says how."""
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    comment = _comment(comment)
    if not comment:
        raise ValidationError({"comment": "Say how it was resolved (for the audit log)."})
    if alert.status == AlertStatus.RESOLVED:
        raise ValidationError({"status": "This alert is already resolved."})
    return _move(alert, actor, comment, request, to=AlertStatus.RESOLVED, action=Action.ALERT_RESOLVED)
