"""Audit events of the broker's hot path, written in batches.

Every CONNECT is audited, and a reconnect storm must not turn into a storm of single-row
inserts and commits that each wait for the org's chain lock. ``submit`` puts the event on
a Redis list (one round trip, durable beyond this process); ``drain`` moves what is queued
into the org chains in one transaction. One drainer at a time holds a Redis lock; a
background thread in each web process drains every ``DRAIN_INTERVAL``, and a Celery beat
task catches anything left when the web is quiet.

Each queued item carries an id from a Redis counter (and the Redis data set's epoch) and
the drain records the last one it wrote (``AuditQueueMark``) in the same transaction, so a
drain repeated after a crash between the commit and the queue trim writes nothing twice.

Without Redis (``make run`` on SQLite) ``submit`` appends at once.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from datetime import datetime

from django.conf import settings
from django.db import close_old_connections, connections, transaction

from . import chain
from .models import AuditEvent, AuditQueueMark

log = logging.getLogger(__name__)

QUEUE = "cloudsignal:audit:queue"
COUNTER = "cloudsignal:audit:queue-id"
EPOCH = "cloudsignal:audit:queue-epoch"
LOCK = "cloudsignal:audit:drain-lock"
LOCK_MS = 10_000  # a drainer killed mid-drain delays the next one by at most this
BATCH = 2000
DRAIN_INTERVAL = 0.2

# An item is "<epoch> <id> <json>". The epoch is set once per Redis data set: a Redis that
# lost its data (restarted without persistence) starts a new epoch, and its restarted ids
# are not mistaken for ones already written.
_PUSH = """
local epoch = redis.call('GET', KEYS[3])
if not epoch then
    epoch = ARGV[2]
    redis.call('SET', KEYS[3], epoch)
end
local id = redis.call('INCR', KEYS[2])
redis.call('RPUSH', KEYS[1], epoch .. ' ' .. id .. ' ' .. ARGV[1])
return id
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

_client = None
_client_pid = None


def _redis():
    global _client, _client_pid
    if _client is None or _client_pid != os.getpid():  # a forked worker opens its own
        import redis

        _client, _client_pid = redis.Redis.from_url(settings.REDIS_URL), os.getpid()
    return _client


_scripts: dict = {}


def _push():
    """The push script, sent once and then called by its digest (EVALSHA)."""
    client = _redis()
    if _scripts.get("client") is not client:
        _scripts.update(client=client, push=client.register_script(_PUSH))
    return _scripts["push"]


def queued() -> bool:
    return bool(settings.REDIS_URL)


def _encode(values: dict) -> str:
    return json.dumps({**values, "at": values["at"].isoformat()}, separators=(",", ":"))


def _decode(item: bytes) -> tuple[str, int, AuditEvent]:
    epoch, item_id, body = item.split(b" ", 2)
    values = json.loads(body)
    values["at"] = datetime.fromisoformat(values["at"])
    return epoch.decode(), int(item_id), AuditEvent(**values)


def submit(values: dict) -> None:
    """Record an event (fields from ``services.event_values``) soon, outside the caller's
    transaction: use it only where the event describes no change of ours."""
    if not queued():
        chain.append([AuditEvent(**values)])
        return
    _push()(keys=[QUEUE, COUNTER, EPOCH], args=[_encode(values), uuid.uuid4().hex])
    if settings.AUDIT_DRAIN_THREAD:
        _ensure_drainer()


def drain(limit: int = BATCH) -> int:
    """Write up to ``limit`` queued events into their org chains; returns how many were taken
    off the queue (0 when the queue is empty or another drainer holds the lock)."""
    if not queued():
        return 0
    client = _redis()
    token = uuid.uuid4().hex
    if not client.set(LOCK, token, nx=True, px=LOCK_MS):
        return 0
    try:
        items = client.lrange(QUEUE, 0, limit - 1)
        if not items:
            return 0
        decoded = [_decode(item) for item in items]
        with transaction.atomic():
            mark, _ = AuditQueueMark.objects.select_for_update().get_or_create(name="broker")
            fresh = [
                (epoch, item_id, event)
                for epoch, item_id, event in decoded
                if epoch != mark.epoch or item_id > mark.last_id
            ]
            if fresh:
                events = [event for _, _, event in fresh]
                # An org deleted since the event was queued has no log left to write it to.
                from orgs.models import Organization

                known = set(
                    Organization.objects.filter(pk__in={e.org_id for e in events}).values_list(
                        "pk", flat=True
                    )
                )
                chain.append((e for e in events if e.org_id in known), returning=False)
                mark.epoch, mark.last_id, _ = fresh[-1]
                mark.save(update_fields=["epoch", "last_id"])
        client.ltrim(QUEUE, len(items), -1)
        return len(items)
    finally:
        client.eval(_RELEASE, 1, LOCK, token)


def drain_all() -> int:
    """Drain until the queue is empty (tests, the beat task, a worker shutting down)."""
    total = 0
    while taken := drain():
        total += taken
    return total


def backlog() -> int:
    return _redis().llen(QUEUE) if queued() else 0


_drainer: threading.Thread | None = None
_drainer_pid: int | None = None
_drainer_lock = threading.Lock()


_stop = threading.Event()


def _ensure_drainer() -> None:
    global _drainer, _drainer_pid
    if _drainer is not None and _drainer_pid == os.getpid() and _drainer.is_alive():
        return
    with _drainer_lock:
        if _drainer is None or _drainer_pid != os.getpid() or not _drainer.is_alive():
            _stop.clear()
            _drainer = threading.Thread(target=_drain_forever, name="audit-drainer", daemon=True)
            _drainer_pid = os.getpid()
            _drainer.start()


def stop_drainer() -> None:
    """Stop this process's background drainer and write what is queued (worker exit, tests)."""
    global _drainer
    with _drainer_lock:
        if _drainer is not None and _drainer_pid == os.getpid():
            _stop.set()
            _drainer.join(timeout=10)
        _drainer = None


def _drain_forever() -> None:
    while not _stop.is_set():
        try:
            close_old_connections()
            if drain() < BATCH:
                _stop.wait(DRAIN_INTERVAL)
        except Exception:  # the next round retries; the queue keeps what was not written
            log.exception("audit drain failed")
            _stop.wait(1)
    connections.close_all()  # this thread's own connections: nothing outlives the drainer
