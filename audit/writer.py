"""Audit events of the broker's hot path, written in batches.

Every CONNECT is audited, and a reconnect storm must not turn into a storm of single-row
inserts and commits that each wait for the org's chain lock. ``submit`` hands the event to
this process's flusher thread, which pushes what has gathered to a Redis list in one round
trip every ``FLUSH_LINGER`` (durable beyond this process); ``drain`` moves what is queued
into the org chains in one transaction. Celery beat drains every second, outside the web
processes, whose request threads a drain would compete with for the GIL. One drainer at a
time holds a Redis lock. ``AUDIT_DRAIN_THREAD`` adds a draining thread to each web process, for
a deployment without a Celery worker (and the end-to-end tests).

An event waits in the process only until the flusher's next push. When Redis cannot be
reached the flusher writes the events straight into the chains; at exit it pushes what is
left; a worker killed outright loses at most its last ``FLUSH_LINGER`` of them.

Each queued item carries an id from a Redis counter (and the Redis data set's epoch) and
the drain records the last one it wrote (``AuditQueueMark``) in the same transaction, so a
drain repeated after a crash between the commit and the queue trim writes nothing twice.

Without Redis (``make run`` on SQLite) ``submit`` appends at once.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import uuid
from datetime import datetime
from types import SimpleNamespace

import psycopg
from django.conf import settings
from django.db import DataError, IntegrityError, close_old_connections, connections, transaction

from . import chain
from .models import AuditEvent, AuditQueueMark, organizations

log = logging.getLogger(__name__)

QUEUE = "cloudsignal:audit:queue"
COUNTER = "cloudsignal:audit:queue-id"
EPOCH = "cloudsignal:audit:queue-epoch"
LOCK = "cloudsignal:audit:drain-lock"
# Items the database refused (one bad value must not stall every org's audit): kept here,
# each with the reason, shown by `manage.py audit_dead_letters`, which can retry them.
DEAD = "cloudsignal:audit:dead-letters"
# What "the database refuses this value" looks like (the chain's COPY raises psycopg's own
# errors, unwrapped); a database that is down (an OperationalError) is not that: the whole
# batch waits for it instead.
REFUSED = (DataError, IntegrityError, ValueError, psycopg.DataError, psycopg.IntegrityError)
LOCK_MS = 10_000  # a drainer killed mid-drain delays the next one by at most this
BATCH = 2000
DRAIN_INTERVAL = 0.2
# A pushed batch waits this long for more (up to this much of a worker's audit events is
# lost if the worker is killed outright; a worker that stops cleanly pushes what it holds).
FLUSH_LINGER = 0.02

# An item is "<epoch> <id> <json>". The epoch is set once per Redis data set: a Redis that
# lost its data (restarted without persistence) starts a new epoch, and its restarted ids
# are not mistaken for ones already written. ARGV: a new epoch, then the events' JSON.
_PUSH = """
local epoch = redis.call('GET', KEYS[3])
if not epoch then
    epoch = ARGV[1]
    redis.call('SET', KEYS[3], epoch)
end
local last = redis.call('INCRBY', KEYS[2], #ARGV - 1)
local items = {}
for i = 2, #ARGV do
    items[i - 1] = epoch .. ' ' .. (last - #ARGV + i) .. ' ' .. ARGV[i]
end
redis.call('RPUSH', KEYS[1], unpack(items))
return last
"""
PUSH_CHUNK = 1000  # events per script call (Lua's unpack has a limit)
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


def _decode_values(body: str | bytes) -> SimpleNamespace:
    """An event as ``chain.append(..., returning=False)`` takes it."""
    values = json.loads(body)
    values["at"] = datetime.fromisoformat(values["at"])
    return SimpleNamespace(**values)


def _decode(item: bytes) -> tuple[str, int, SimpleNamespace]:
    epoch, item_id, body = item.split(b" ", 2)
    return epoch.decode(), int(item_id), _decode_values(body)


def submit(values: dict) -> None:
    """Record an event (fields from ``services.event_values``) soon, outside the caller's
    transaction: use it only where the event describes no change of ours."""
    if not queued():
        chain.append([AuditEvent(**values)])
        return
    with _pending_lock:
        _pending.append(_encode(values))
    if not _wake.is_set():  # set already while the flusher lingers: most calls under load
        _wake.set()
    _ensure_threads()


def _push_items(items: list[str]) -> None:
    push = _push()
    for start in range(0, len(items), PUSH_CHUNK):
        push(keys=[QUEUE, COUNTER, EPOCH], args=[uuid.uuid4().hex, *items[start : start + PUSH_CHUNK]])


# Events submitted in this process and not yet pushed to Redis.
_pending: list[str] = []
_pending_lock = threading.Lock()
_flush_lock = threading.Lock()  # held while a push is on its way: a drain waits for it
_wake = threading.Event()


def flush() -> int:
    """Push this process's pending events to the queue; when Redis fails, write them into
    the chains directly; when that fails too, keep them for the next try (and raise)."""
    global _pending
    with _flush_lock:
        with _pending_lock:
            items, _pending = _pending, []
        if not items:
            return 0
        try:
            _push_items(items)
        except Exception:
            log.warning("audit queue unreachable: writing %d events directly", len(items), exc_info=True)
            try:
                _append_direct(items)
            except Exception:
                with _pending_lock:
                    _pending[:0] = items
                raise
        return len(items)


def _append_direct(items: list[str]) -> None:
    """Write events straight into the chains (Redis is unreachable); an event the database
    refuses is logged and dropped, since there is nowhere to set it aside and it would
    otherwise hold back every event after it."""
    try:
        with transaction.atomic():
            chain.append([_decode_values(item) for item in items], returning=False)
    except REFUSED:
        for item in items:
            try:
                with transaction.atomic():
                    chain.append([_decode_values(item)], returning=False)
            except REFUSED as error:
                log.error("audit event dropped, the database refuses it (%s): %.300s", error, item)


def drain(limit: int = BATCH) -> int:
    """Write up to ``limit`` queued events into their org chains; returns how many were taken
    off the queue (0 when the queue is empty or another drainer holds the lock)."""
    if not queued():
        return 0
    flush()
    client = _redis()
    token = uuid.uuid4().hex
    if not client.set(LOCK, token, nx=True, px=LOCK_MS):
        return 0
    try:
        items = client.lrange(QUEUE, 0, limit - 1)
        if not items:
            return 0
        decoded = [_decode(item) for item in items]
        try:
            _write(decoded)
        except REFUSED:
            # Some event of the batch cannot be written: write them one by one, each in its
            # own transaction, and set aside only those the database refuses.
            for raw, one in zip(items, decoded, strict=True):
                try:
                    _write([one])
                except REFUSED as error:
                    _dead_letter(client, raw, one, error)
        client.ltrim(QUEUE, len(items), -1)
        return len(items)
    finally:
        client.eval(_RELEASE, 1, LOCK, token)


def _write(decoded: list) -> None:
    """Append the events not written yet to their orgs' chains and move the mark past them,
    in one transaction."""
    with transaction.atomic():
        mark, _ = AuditQueueMark.objects.select_for_update().get_or_create(name="broker")
        fresh = [
            (epoch, item_id, event)
            for epoch, item_id, event in decoded
            if epoch != mark.epoch or item_id > mark.last_id
        ]
        if not fresh:
            return
        events = [event for _, _, event in fresh]
        # An org deleted since the event was queued has no log left to write it to.
        known = set(organizations().filter(pk__in={e.org_id for e in events}).values_list("pk", flat=True))
        chain.append((e for e in events if e.org_id in known), returning=False)
        mark.epoch, mark.last_id, _ = fresh[-1]
        mark.save(update_fields=["epoch", "last_id"])


def _reason(error: Exception) -> str:
    first_line = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {first_line}"[:300]


def _dead_letter(client, raw: bytes, decoded, error: Exception) -> None:
    """Keep an item the database refused, with why; later items are written past it."""
    epoch, item_id, event = decoded
    reason = _reason(error)
    client.rpush(DEAD, json.dumps({"reason": reason, "item": raw.decode("utf-8", "replace")}))
    log.error(
        "audit event %s of %s set aside (%s): see manage.py audit_dead_letters", item_id, event.org_id, reason
    )
    with transaction.atomic():  # move the mark past it, so it is not taken again
        mark, _ = AuditQueueMark.objects.select_for_update().get_or_create(name="broker")
        if epoch != mark.epoch or item_id > mark.last_id:
            mark.epoch, mark.last_id = epoch, item_id
            mark.save(update_fields=["epoch", "last_id"])


def dead_letters() -> list[dict]:
    """The items set aside, oldest first: {"reason", "item"}."""
    if not queued():
        return []
    return [json.loads(raw) for raw in _redis().lrange(DEAD, 0, -1)]


def retry_dead_letters() -> tuple[int, int]:
    """Write the set-aside items again, one by one; (written, still refused)."""
    client = _redis()
    written = refused = 0
    for _ in range(client.llen(DEAD)):
        raw = client.lpop(DEAD)
        if raw is None:
            break
        entry = json.loads(raw)
        _, _, event = _decode(entry["item"].encode())
        try:
            with transaction.atomic():
                chain.append([event], returning=False)
            written += 1
        except REFUSED as error:
            entry["reason"] = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"[
                :300
            ]
            client.rpush(DEAD, json.dumps(entry))
            refused += 1
    return written, refused


def drain_all() -> int:
    """Drain until the queue is empty (tests, the beat task, a worker shutting down)."""
    total = 0
    while taken := drain():
        total += taken
    return total


def backlog() -> int:
    """Events queued in Redis and pending in this process."""
    if not queued():
        return 0
    with _flush_lock:
        return _redis().llen(QUEUE) + len(_pending)


# This process's background threads, by name; started on first use (again after a fork).
_threads: dict[str, threading.Thread] = {}
_threads_pid: int | None = None
_threads_lock = threading.Lock()
_stop = threading.Event()


def _wanted() -> dict:
    wanted = {"audit-flusher": _flush_forever}
    if settings.AUDIT_DRAIN_THREAD:
        wanted["audit-drainer"] = _drain_forever
    return wanted


def _running(wanted: dict) -> bool:
    return _threads_pid == os.getpid() and all(
        name in _threads and _threads[name].is_alive() for name in wanted
    )


def _ensure_threads() -> None:
    global _threads, _threads_pid
    wanted = _wanted()
    if _running(wanted):
        return
    with _threads_lock:
        if _threads_pid != os.getpid():  # forked: the parent's threads are not ours
            _threads, _threads_pid = {}, os.getpid()
        _stop.clear()
        for name, target in wanted.items():
            if name not in _threads or not _threads[name].is_alive():
                _threads[name] = threading.Thread(target=target, name=name, daemon=True)
                _threads[name].start()


def stop_drainer() -> None:
    """Stop this process's background threads and push what is pending (worker exit, tests)."""
    global _threads
    with _threads_lock:
        if _threads_pid == os.getpid():
            _stop.set()
            _wake.set()
            for thread in _threads.values():
                thread.join(timeout=10)
        _threads = {}
    flush()


def _flush_forever() -> None:
    while not _stop.is_set():
        _wake.wait()
        _stop.wait(FLUSH_LINGER)  # let a few more gather: one push for many CONNECTs
        _wake.clear()  # before taking the events: one submitted meanwhile wakes the next round
        try:
            flush()
        except Exception:  # kept pending; the next round retries
            log.exception("audit flush failed")
            _stop.wait(1)
            _wake.set()
    connections.close_all()


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


# A worker stopping pushes what it still holds (its daemon threads die with it).
atexit.register(flush)
