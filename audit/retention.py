"""Retention: events older than the org's ``audit_retention_days`` are purged, and a
checkpoint records where the chain was cut so what remains still verifies."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from . import chain
from .models import AuditCheckpoint, AuditEvent, SubjectType
from .services import Actor, Subject, build_event


def purge_expired(org, *, now: datetime | None = None) -> int:
    """Delete the org's oldest events (a prefix of its chain) whose time is before the
    retention cutoff; returns how many were deleted."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=org.audit_retention_days)
    with transaction.atomic():
        head = chain.lock_head(org.pk)  # no append while the chain is cut
        last_cut = (
            AuditCheckpoint.objects.filter(org=org).order_by("-seq").values_list("seq", flat=True).first()
        )
        events = AuditEvent.objects.filter(org=org, seq__gt=last_cut or 0)
        # The chain is cut before the first event still inside retention; an older event
        # appended after it (a late queued one) waits for the next cut.
        first_kept = events.filter(at__gte=cutoff).order_by("seq").values_list("seq", flat=True).first()
        cut = head.seq if first_kept is None else first_kept - 1
        if cut <= (last_cut or 0):
            return 0
        last = events.filter(seq__lte=cut).order_by("-seq").values_list("seq", "hash").first()
        if last is None:
            return 0
        seq, hash_ = last
        count = AuditEvent.objects.filter(org=org, seq__lte=seq).count()  # fixed: the head is locked
        mac = chain.checkpoint_mac(org.pk, seq, hash_, count, cutoff)
        if connection.vendor == "postgresql":
            # Through the owner's function: the application's role cannot delete audit rows
            # itself, and the function deletes only what retention would (audit 0009).
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT audit_purge_prefix(%s, %s, %s, %s, %s)", [org.pk, seq, hash_, cutoff, mac]
                )
                deleted = cursor.fetchone()[0]
        else:
            with chain.purging():
                deleted, _ = AuditEvent.objects.filter(org=org, seq__lte=seq).delete()
            AuditCheckpoint.objects.create(
                org=org, seq=seq, hash=hash_, purged=deleted, cutoff=cutoff, at=now, mac=mac
            )
        # The purge is itself a chain event: a checkpoint that none confirms was forged.
        chain.append(
            [
                build_event(
                    org,
                    chain.PURGE_ACTION,
                    actor=Actor.system("audit retention"),
                    subject=Subject(SubjectType.AUDIT_LOG, org.pk, "audit log"),
                    details={
                        "checkpoint_seq": seq,
                        "purged": deleted,
                        "cutoff": cutoff.isoformat(),
                        "retention_days": org.audit_retention_days,
                    },
                    at=now,
                )
            ]
        )
        return deleted


def delete_org(org) -> None:
    """Delete an org with its audit log (operators and benchmarks; the product never does)."""
    with chain.purging():
        org.delete()
