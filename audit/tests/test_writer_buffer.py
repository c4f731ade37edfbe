"""The batched writer's in-process buffer: events pushed by a background flusher, written by
a background drainer, written directly when Redis is gone, pushed when the process exits."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from audit import chain, writer
from audit.models import AuditEvent
from audit.services import Actor, event_values
from conftest import make_org

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not writer.queued(), reason="the queue needs Redis")


def _event(org_id: str, n: int) -> dict:
    return event_values(org_id, "auth.success", actor=Actor.system(), details={"n": n})


def _written(org_id: str) -> list[int]:
    return [
        e.details["n"]
        for e in AuditEvent.objects.filter(org_id=org_id, action="auth.success").order_by("seq")
    ]


def test_the_background_threads_push_and_write_every_event_in_order(transactional_db, settings):
    settings.AUDIT_DRAIN_THREAD = True
    org = make_org("Buffered", "buf").org
    try:
        for n in range(200):
            writer.submit(_event(org.id, n))
        deadline = time.monotonic() + 10
        while len(_written(org.id)) < 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _written(org.id) == list(range(200))
        assert writer.backlog() == 0 and chain.verify(org.id).ok
    finally:
        writer.stop_drainer()


def test_with_redis_gone_the_pending_events_go_straight_into_the_chain(org_a, monkeypatch):
    def unreachable(items):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(writer, "_push_items", unreachable)
    monkeypatch.setattr(writer, "_pending", [writer._encode(_event(org_a.org.id, n)) for n in range(3)])
    assert writer.flush() == 3
    assert _written(org_a.org.id) == [0, 1, 2] and chain.verify(org_a.org.id).ok
    assert writer._pending == []


def test_with_redis_and_the_database_gone_nothing_is_dropped(org_a, monkeypatch):
    pending = [writer._encode(_event(org_a.org.id, n)) for n in range(3)]
    monkeypatch.setattr(writer, "_pending", list(pending))

    def unreachable(*args, **kwargs):
        raise ConnectionError("down")

    monkeypatch.setattr(writer, "_push_items", unreachable)
    monkeypatch.setattr(chain, "append", unreachable)
    with pytest.raises(ConnectionError):
        writer.flush()
    assert writer._pending == pending  # kept, in order, for the next round
    monkeypatch.undo()
    monkeypatch.setattr(writer, "_pending", list(pending))
    assert writer.flush() == 3 and writer.drain_all() == 3
    assert _written(org_a.org.id) == [0, 1, 2]


def test_a_process_that_exits_pushes_what_it_still_holds(org_a):
    # A worker whose flusher has not run yet (its threads are not started here) exits
    # cleanly: its pending events reach the queue, and the next drain writes them.
    script = textwrap.dedent(
        f"""
        import django
        django.setup()
        from django.conf import settings
        from audit import writer
        from audit.services import Actor, event_values
        settings.AUDIT_DRAIN_THREAD = True
        writer._ensure_threads = lambda: None
        for n in range(5):
            event = event_values({org_a.org.id!r}, "auth.success", actor=Actor.system(), details={{"n": n}})
            writer.submit(event)
        assert len(writer._pending) == 5
        """
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cloudsignal_dashboard.settings"}
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True, timeout=60)
    assert writer.backlog() == 5
    assert writer.drain_all() == 5
    assert _written(org_a.org.id) == [0, 1, 2, 3, 4]


def _poison(org_id: str) -> dict:
    # U+0000 cannot be stored in PostgreSQL's jsonb: the database refuses this event.
    return event_values(org_id, "auth.success", actor=Actor.system(), details={"n": -1, "bad": "a\x00b"})


def test_an_event_the_database_refuses_is_set_aside_and_the_rest_are_written(transactional_db, audit_queue):
    from django.core.management import call_command

    org = make_org("Poisoned", "poi").org
    other = make_org("Bystander", "bys").org
    writer._redis().delete(writer.DEAD)
    for values in (_event(org.id, 1), _poison(org.id), _event(other.id, 2), _event(org.id, 3)):
        writer.submit(values)
    writer.flush()
    assert writer.drain_all() == 4  # not the same batch retried forever
    assert _written(org.id) == [1, 3] and _written(other.id) == [2]
    assert writer.backlog() == 0
    [entry] = writer.dead_letters()
    assert "Unicode escape" in entry["reason"] and org.id in entry["item"]
    assert chain.verify(org.id).ok
    # Visible and retried alone: still refused, still kept.
    import io

    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("audit_dead_letters", "--retry", stdout=out)
    assert "0 written, 1 still refused" in out.getvalue() and "auth.success" in out.getvalue()
    assert len(writer.dead_letters()) == 1
    writer._redis().delete(writer.DEAD)


def test_a_database_that_is_down_sets_nothing_aside(transactional_db, audit_queue, monkeypatch):
    from django.db import OperationalError

    org = make_org("Waiting", "wai").org
    writer._redis().delete(writer.DEAD)
    writer.submit(_event(org.id, 1))
    writer.flush()

    def down(*args, **kwargs):
        raise OperationalError("the database is restarting")

    monkeypatch.setattr(writer, "_write", down)
    with pytest.raises(OperationalError):
        writer.drain()
    monkeypatch.undo()
    assert writer.dead_letters() == [] and writer.backlog() == 1
    assert writer.drain_all() == 1 and _written(org.id) == [1]
