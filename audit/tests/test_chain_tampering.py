"""Someone with write access to the database but not the pepper changes the audit log: each
way the issue found to pass as "verified" is now reported, by verify, verify_audit and the
badge."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from audit import chain, retention
from audit.models import AuditChainHead, AuditCheckpoint, AuditEvent, AuditVerifiedHead
from audit.services import Actor, Subject, record_event
from orgs.models import Organization


def _events(org, n: int, *, days_ago: int = 0):
    at = timezone.now() - timedelta(days=days_ago)
    for i in range(n):
        record_event(
            org,
            "org.updated",
            actor=Actor.system(),
            subject=Subject("organization", str(i)),
            at=at + timedelta(seconds=i),
        )


def _sql(sql: str, params=()):
    """What a database writer does, with the append-only trigger switched off."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")


def _broken(org_id: str, expected: str):
    verdict = chain.verify(org_id)
    assert not verdict.ok, verdict
    assert expected in verdict.problem, verdict
    with pytest.raises(CommandError):
        call_command("verify_audit", org_id)
    return verdict


def _copy_of(org_id: str, seq: int) -> dict:
    return AuditEvent.objects.filter(org_id=org_id, seq=seq).values().get()


def test_a_forged_event_far_past_the_head_is_found(org_a):
    _events(org_a.org, 3)
    forged = _copy_of(org_a.org.id, 1)
    forged.update(id=None, seq=10**12, action="member.role_changed", hash="f" * 64)
    AuditEvent.objects.bulk_create([AuditEvent(**forged)])
    verdict = _broken(org_a.org.id, "past the chain's head")
    assert verdict.broken_at == 10**12


def test_a_deleted_tail_with_the_head_set_back_is_found(org_a):
    _events(org_a.org, 5)
    assert chain.verify(org_a.org.id, remember=True).ok  # the verifier saw the head at 5+
    head = AuditChainHead.objects.get(org=org_a.org)
    # An old, genuinely signed head (from a backup, or read off the table earlier).
    old = AuditEvent.objects.get(org=org_a.org, seq=head.seq - 2)
    old_mac = chain.head_mac(org_a.org.id, old.seq, old.hash)  # what the head row held then
    _sql("DELETE FROM audit_auditevent WHERE org_id = %s AND seq > %s", [org_a.org.id, old.seq])
    AuditChainHead.objects.filter(org=org_a.org).update(seq=old.seq, hash=old.hash, mac=old_mac)
    _broken(org_a.org.id, "rolled back")


def test_a_head_moved_without_the_key_is_found(org_a):
    _events(org_a.org, 4)
    head = AuditChainHead.objects.get(org=org_a.org)
    previous = AuditEvent.objects.get(org=org_a.org, seq=head.seq - 1)
    _sql("DELETE FROM audit_auditevent WHERE org_id = %s AND seq = %s", [org_a.org.id, head.seq])
    AuditChainHead.objects.filter(org=org_a.org).update(seq=previous.seq, hash=previous.hash)
    _broken(org_a.org.id, "head was altered")


def test_a_forged_checkpoint_over_a_deleted_prefix_is_found(org_a):
    _events(org_a.org, 6)
    cut = AuditEvent.objects.get(org=org_a.org, seq=3)
    _sql("DELETE FROM audit_auditevent WHERE org_id = %s AND seq <= 3", [org_a.org.id])
    AuditCheckpoint.objects.create(
        org=org_a.org, seq=3, hash=cut.hash, purged=3, cutoff=timezone.now(), at=timezone.now(), mac="0" * 64
    )
    _broken(org_a.org.id, "checkpoint was forged")


def test_a_purge_is_a_chain_event_and_hiding_it_is_found(db):
    org = Organization.objects.create(name="Old", audit_retention_days=30)
    _events(org, 4, days_ago=40)
    _events(org, 2, days_ago=1)
    assert retention.purge_expired(org) == 4
    assert chain.verify(org.pk).ok
    purge = AuditEvent.objects.get(org=org, action="audit.purged")
    assert purge.details["checkpoint_seq"] == AuditCheckpoint.objects.get(org=org).seq
    # Removing the purge's own event (to hide the purge) breaks the chain where it stood...
    _sql("DELETE FROM audit_auditevent WHERE id = %s", [purge.pk])
    assert not chain.verify(org.pk).ok


def test_deleting_every_event_is_found(org_a):
    _events(org_a.org, 3)
    _sql("DELETE FROM audit_auditevent WHERE org_id = %s", [org_a.org.id])
    _broken(org_a.org.id, "deleted")


def test_deleting_every_event_and_the_head_is_found_once_verified(org_a):
    _events(org_a.org, 3)
    assert chain.verify(org_a.org.id, remember=True).ok
    _sql("DELETE FROM audit_auditevent WHERE org_id = %s", [org_a.org.id])
    AuditChainHead.objects.filter(org=org_a.org).delete()
    _broken(org_a.org.id, "head is missing")


def test_deleting_the_head_row_alone_is_found(org_a):
    _events(org_a.org, 3)
    AuditChainHead.objects.filter(org=org_a.org).delete()
    _broken(org_a.org.id, "head is missing")


def test_a_forged_verified_head_is_no_evidence(org_a):
    _events(org_a.org, 2)
    AuditVerifiedHead.objects.create(
        org=org_a.org, seq=99, hash="x", mac="0" * 64, verified_at=timezone.now()
    )
    assert chain.verify(org_a.org.id).ok  # not a rollback: the row was not the verifier's


def test_the_badge_reports_the_break(org_a, client_for):
    _events(org_a.org, 3)
    forged = _copy_of(org_a.org.id, 1)
    forged.update(id=None, seq=10**12, hash="f" * 64)
    AuditEvent.objects.bulk_create([AuditEvent(**forged)])
    page = client_for(org_a.auditor).get(reverse("audit:verify", kwargs={"org_id": org_a.org.id}))
    assert "past the chain" in page.content.decode()


def test_an_intact_chain_still_verifies_through_appends_and_purges(db):
    org = Organization.objects.create(name="Kept", audit_retention_days=30)
    world = SimpleNamespace(org=org)
    _events(world.org, 3, days_ago=40)
    _events(world.org, 3)
    assert chain.verify(org.pk, remember=True).ok
    retention.purge_expired(org)
    _events(world.org, 2)
    assert chain.verify(org.pk, remember=True).ok
    record = chain.head_record(org.pk)
    assert record["mac"] == chain.head_mac(org.pk, record["seq"], record["hash"])


def test_the_signed_head_leaves_the_database_in_exports_and_webhooks(org_a, client_for):
    import json

    from detection import webhooks

    _events(org_a.org, 2)
    response = client_for(org_a.auditor).get(reverse("audit:export_jsonl", kwargs={"org_id": org_a.org.id}))
    last = json.loads(b"".join(response.streaming_content).decode().splitlines()[-1])
    head = AuditChainHead.objects.get(org=org_a.org)
    assert last == {"chain_head": {"org": org_a.org.id, "seq": head.seq, "hash": head.hash, "mac": head.mac}}
    assert webhooks.payload(org_a.alert, "alert.opened")["audit_chain_head"]["mac"] == head.mac


def test_the_daily_verification_remembers_heads_and_reports_breaks(org_a, org_b, settings, caplog):
    from audit import tasks

    assert settings.CELERY_BEAT_SCHEDULE["verify-audit-chains"]["task"] == "audit.tasks.verify_all_chains"
    _events(org_a.org, 2)
    _events(org_b.org, 2)
    assert tasks.verify_all_chains() == 0
    assert AuditVerifiedHead.objects.filter(org=org_a.org).exists()
    assert AuditVerifiedHead.objects.filter(org=org_b.org).exists()
    forged = _copy_of(org_b.org.id, 1)
    forged.update(id=None, seq=10**9, hash="f" * 64)
    AuditEvent.objects.bulk_create([AuditEvent(**forged)])
    assert tasks.verify_all_chains() == 1
    assert f"audit chain broken: {org_b.org.id}" in caplog.text
