"""The hash chain, the append-only trigger, the retention purge and the batched writer."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit import chain, retention
from audit.models import AuditCheckpoint, AuditEvent
from audit.services import Actor, Subject, build_event, event_values, record_event
from orgs.models import Organization


def _events(world, n: int, *, days_ago: int = 0):
    at = timezone.now() - timedelta(days=days_ago)
    for i in range(n):
        record_event(
            world.org,
            "org.updated",
            actor=Actor.system(),
            subject=Subject("organization", str(i), f"thing {i}"),
            peer_ip="2001:DB8::1",  # stored normalised; the hash must not care
            details={"i": i, "nested": {"b": [1, 2.5, "x"], "a": None}},
            at=at + timedelta(seconds=i),
        )


def _tamper(sql: str, params=()):
    """What someone with write access to the table could do, the trigger switched off."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE waits for no deferred check
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")


def test_a_chain_verifies_and_is_per_org(org_a, org_b):
    _events(org_a, 5)
    _events(org_b, 3)
    assert chain.verify(org_a.org.id).ok and chain.verify(org_b.org.id).ok
    assert chain.verify(org_a.org.id).checked >= 5
    seqs = list(AuditEvent.objects.filter(org=org_b.org).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))


def test_a_modified_event_is_found(org_a):
    _events(org_a, 5)
    target = AuditEvent.objects.get(org=org_a.org, action="org.updated", details__i=2)
    _tamper("UPDATE audit_auditevent SET details = '{\"i\": 99}' WHERE id = %s", [target.pk])
    verdict = chain.verify(org_a.org.id)
    assert (verdict.ok, verdict.broken_at) == (False, target.seq)
    assert "does not match" in verdict.problem


def test_a_deleted_event_is_found(org_a):
    _events(org_a, 5)
    target = AuditEvent.objects.get(org=org_a.org, details__i=1)
    _tamper("DELETE FROM audit_auditevent WHERE id = %s", [target.pk])
    verdict = chain.verify(org_a.org.id)
    assert (verdict.broken_at, verdict.problem) == (target.seq, f"event #{target.seq} is missing (deleted)")


def test_the_last_event_deleted_is_found(org_a):
    _events(org_a, 3)
    last = AuditEvent.objects.filter(org=org_a.org).order_by("-seq").first()
    _tamper("DELETE FROM audit_auditevent WHERE id = %s", [last.pk])
    assert "last events were deleted" in chain.verify(org_a.org.id).problem


def test_an_inserted_event_is_found(org_a):
    _events(org_a, 5)
    target = AuditEvent.objects.get(org=org_a.org, details__i=3)
    # Make room in the middle of the chain and slip a forged event in.
    _tamper(
        "UPDATE audit_auditevent SET seq = seq + 1000 WHERE org_id = %s AND seq >= %s",
        [org_a.org.id, target.seq],
    )
    _tamper(
        "UPDATE audit_auditevent SET seq = seq - 999 WHERE org_id = %s AND seq >= %s",
        [org_a.org.id, target.seq + 1000],
    )
    forged = build_event(org_a.org, "org.updated", actor=Actor.system())
    forged.seq, forged.hash = target.seq, "0" * 64
    AuditEvent.objects.bulk_create([forged])
    verdict = chain.verify(org_a.org.id)
    assert (verdict.ok, verdict.broken_at) == (False, target.seq)


def test_the_trigger_refuses_update_and_delete(org_a):
    _events(org_a, 1)
    for attempt in (
        lambda: AuditEvent.objects.filter(org=org_a.org).update(action="x"),
        lambda: AuditEvent.objects.filter(org=org_a.org).delete(),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    assert chain.verify(org_a.org.id).ok


def test_purge_cuts_the_chain_with_a_checkpoint_and_it_still_verifies(db):
    # A chain cut is a prefix: this org's log starts with the old events (no fixture's of today).
    org = Organization.objects.create(name="Old", audit_retention_days=30)
    world = SimpleNamespace(org=org)
    _events(world, 4, days_ago=40)
    _events(world, 3, days_ago=1)
    assert retention.purge_expired(org) == 4
    assert not AuditEvent.objects.filter(org=org, at__lt=timezone.now() - timedelta(days=30)).exists()
    assert AuditEvent.objects.filter(org=org, action="org.updated").count() == 3
    checkpoint = AuditCheckpoint.objects.get(org=org)
    assert checkpoint.purged == 4
    verdict = chain.verify(org.id)
    assert verdict.ok, verdict
    assert retention.purge_expired(org) == 0  # nothing more is old enough
    record_event(org, "org.updated", actor=Actor.system())
    assert chain.verify(org.id).ok


def test_verify_audit_command(org_a, org_b, capsys):
    _events(org_a, 2)
    _events(org_b, 2)
    call_command("verify_audit", org_a.org.id)
    assert "verified" in capsys.readouterr().out
    target = AuditEvent.objects.filter(org=org_b.org).order_by("seq").first()
    _tamper("UPDATE audit_auditevent SET actor_label = 'someone else' WHERE id = %s", [target.pk])
    with pytest.raises(CommandError, match="1 broken"):
        call_command("verify_audit")
    out = capsys.readouterr().out
    assert f"{org_a.org.id}: verified" in out and f"{org_b.org.id}: broken at event #{target.seq}" in out
    with pytest.raises(CommandError, match="No organization"):
        call_command("verify_audit", "org_nope")


def test_queued_events_are_written_once_in_chain_order(org_a, audit_queue):
    events = [
        event_values(org_a.org, "auth.success", actor=Actor.system(), details={"n": n}) for n in range(5)
    ]
    for event in events:
        audit_queue.submit(event)
    audit_queue.flush()  # what the flusher thread does within FLUSH_LINGER
    raw = audit_queue._redis().lrange(audit_queue.QUEUE, 0, -1)
    assert audit_queue.backlog() == 5 and not AuditEvent.objects.filter(action="auth.success").exists()
    assert audit_queue.drain_all() == 5
    # A drainer that died between the commit and the queue trim leaves the same items behind.
    audit_queue._redis().rpush(audit_queue.QUEUE, *raw)
    assert audit_queue.drain_all() == 5
    written = AuditEvent.objects.filter(action="auth.success").order_by("seq")
    assert [e.details["n"] for e in written] == [0, 1, 2, 3, 4]
    assert chain.verify(org_a.org.id).ok


def test_a_queued_event_of_a_deleted_org_is_dropped(org_a, org_b, audit_queue):
    audit_queue.submit(event_values(org_b.org, "auth.failure", actor=Actor.system()))
    audit_queue.submit(event_values(org_a.org, "auth.failure", actor=Actor.system()))
    retention.delete_org(org_b.org)
    assert audit_queue.drain_all() == 2
    assert list(AuditEvent.objects.filter(action="auth.failure").values_list("org_id", flat=True)) == [
        org_a.org.id
    ]


def test_a_redis_that_lost_its_data_starts_a_new_epoch(org_a, audit_queue):
    audit_queue.submit(event_values(org_a.org, "auth.success", actor=Actor.system(), details={"n": 1}))
    audit_queue.drain_all()
    # Redis restarted without persistence: the counter starts again at 1.
    audit_queue._redis().delete(audit_queue.COUNTER, audit_queue.EPOCH)
    audit_queue.submit(event_values(org_a.org, "auth.success", actor=Actor.system(), details={"n": 2}))
    assert audit_queue.drain_all() == 1
    assert sorted(e.details["n"] for e in AuditEvent.objects.filter(action="auth.success")) == [1, 2]


def test_the_beat_tasks_run_and_are_scheduled(org_a, audit_queue, settings):
    from audit import tasks

    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "audit.tasks.drain_audit_queue",
        "audit.tasks.purge_expired_audit_events",
        "detection.tasks.scan_anomalies",
    } <= schedule
    audit_queue.submit(event_values(org_a.org, "auth.success", actor=Actor.system()))
    assert tasks.drain_audit_queue() == 1
    old_org = Organization.objects.create(name="Old", audit_retention_days=30)
    _events(SimpleNamespace(org=old_org), 3, days_ago=400)
    from detection import tasks as detection_tasks
    from detection.models import ScanSettings

    detection_tasks.scan_anomalies()
    assert tasks.purge_expired_audit_events() == 3
    left = list(AuditEvent.objects.filter(org=old_org).values_list("action", flat=True))
    assert left == ["audit.purged"] and chain.verify(old_org.pk).ok
    assert ScanSettings.objects.get(org=org_a.org).last_scan_at is not None


def test_events_appended_during_a_walk_are_not_a_break(org_a, monkeypatch):
    _events(org_a, 6)
    monkeypatch.setattr(chain, "BATCH", 2)
    appended = []

    def append_meanwhile(checked, total):
        if not appended:
            appended.append(record_event(org_a.org, "org.updated", actor=Actor.system()))

    verdict = chain.verify(org_a.org.id, progress=append_meanwhile)
    assert verdict.ok and appended, verdict
    assert chain.verify(org_a.org.id).checked == verdict.checked + 1


def test_a_long_chain_is_verified_in_the_background_with_progress(
    org_a, client_for, monkeypatch, django_capture_on_commit_callbacks
):
    from django.core.cache import cache
    from django.urls import reverse

    from audit import tasks

    _events(org_a, 5)
    monkeypatch.setattr(chain, "VERIFY_INLINE", 2)
    started = []
    monkeypatch.setattr(tasks.verify_chain, "delay", lambda org_id: started.append(org_id))
    cache.delete(f"audit-verifying:{org_a.org.id}")
    url = reverse("audit:verify", kwargs={"org_id": org_a.org.id})
    client = client_for(org_a.auditor)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.get(url).content.decode()
    assert "verifying the chain" in first and 'hx-trigger="every 1s"' in first and started == [org_a.org.id]
    with django_capture_on_commit_callbacks(execute=True):
        client.get(url)
    assert started == [org_a.org.id]  # one walk at a time
    assert tasks.verify_chain(org_a.org.id) is True  # what the worker runs
    assert "Chain verified" in client.get(url).content.decode()


def test_an_action_or_subject_type_outside_the_vocabulary_is_refused_before_it_is_written(org_a):
    from audit.models import Action, SubjectType
    from audit.services import Subject

    before = AuditEvent.objects.filter(org=org_a.org).count()
    with pytest.raises(ValueError, match="unknown audit action 'mqtt_user.create'"):
        record_event(org_a.org, "mqtt_user.create", actor=Actor.system())  # a typo of .created
    with pytest.raises(ValueError, match="unknown audit subject type 'user'"):
        record_event(org_a.org, Action.ORG_UPDATED, actor=Actor.system(), subject=Subject("user", "1", "x"))
    assert AuditEvent.objects.filter(org=org_a.org).count() == before
    event = record_event(
        org_a.org, Action.TOKEN_REVOKED, actor=Actor.system(), subject=Subject(SubjectType.TOKEN, "t", "t")
    )
    event.refresh_from_db()
    assert (event.action, event.action_label) == ("token.revoked", "Token revoked")
    assert (event.subject_type, event.subject_type_label) == ("token", "Token")
    assert type(event.action) is str and chain.verify(org_a.org.id).ok
    old = AuditEvent(action="mqtt.old_kind", subject_type="org")  # recorded before a rename
    assert (old.action_label, old.subject_type_label) == ("mqtt.old_kind", "org")
