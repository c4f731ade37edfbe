"""The tamper-evident audit log: one hash chain per org.

Each event carries ``seq`` (its place in the org's chain) and ``hash`` =
HMAC-SHA256(key, previous hash + canonical content). The key is derived from the
server's pepper, so someone who can write to the database but not read the server's
configuration cannot forge a chain that verifies. Appends take the org's
``AuditChainHead`` row lock, which serialises them per org; a retention purge records an
``AuditCheckpoint`` so the remaining chain still verifies (``verify``).

On PostgreSQL a trigger (migration audit 0004) refuses UPDATE and DELETE of audit rows
unless the transaction set ``cloudsignal.audit_purge`` (``purging()``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC
from functools import cache

from django.conf import settings
from django.db import connection, transaction

from .models import AuditChainHead, AuditCheckpoint, AuditEvent

CONTENT_FIELDS = (
    "org_id",
    "seq",
    "at",
    "actor_type",
    "actor_id",
    "actor_label",
    "action",
    "subject_type",
    "subject_id",
    "subject_label",
    "outcome",
    "peer_ip",
    "details",
)


@cache
def _key(pepper: str) -> bytes:
    return hmac.new(pepper.encode(), b"cloudsignal audit chain v1", hashlib.sha256).digest()


def canonical(values: dict) -> bytes:
    """The event's content as bytes that do not depend on the database it came from."""
    doc = {name: values[name] for name in CONTENT_FIELDS}
    doc["at"] = values["at"].astimezone(UTC).isoformat(timespec="microseconds")
    doc["peer_ip"] = values["peer_ip"] or None
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def link(prev_hash: str, values: dict) -> str:
    key = _key(settings.SECRETS_PEPPER)
    return hmac.new(key, prev_hash.encode() + b"\n" + canonical(values), hashlib.sha256).hexdigest()


def _values(event) -> dict:
    return {name: getattr(event, name) for name in CONTENT_FIELDS}


def lock_head(org_id: str) -> AuditChainHead:
    heads = AuditChainHead.objects.select_for_update()
    head = heads.filter(org_id=org_id).first()
    if head is None:
        with connection.cursor() as cursor:  # two first appends may race: one insert wins
            cursor.execute(
                f"INSERT INTO {AuditChainHead._meta.db_table} (org_id, seq, hash) VALUES (%s, 0, '') "
                "ON CONFLICT DO NOTHING",
                [org_id],
            )
        head = heads.get(org_id=org_id)
    return head


def append(events: Iterable, *, returning: bool = True) -> list:
    """Chain and insert unsaved events of one or more orgs, in the caller's transaction.

    Orgs are locked in id order, so two appends never wait on each other in a cycle.
    ``returning=False`` (the batched writer) skips giving the events their ids, which lets
    PostgreSQL take them with COPY: a fraction of the cost of an INSERT of many rows. Then
    an event may be any object with the event's fields as attributes (the writer's are
    plain namespaces: a model instance costs more to build than chaining the event).
    """
    events = list(events)
    by_org: dict[str, list[AuditEvent]] = {}
    for event in events:
        by_org.setdefault(event.org_id, []).append(event)
    with transaction.atomic():
        for org_id in sorted(by_org):
            head = lock_head(org_id)
            for event in by_org[org_id]:
                head.seq += 1
                event.seq = head.seq
                event.hash = head.hash = link(head.hash, _values(event))
            head.save(update_fields=["seq", "hash"])
        if returning or connection.vendor != "postgresql":
            return AuditEvent.objects.bulk_create(
                [e if isinstance(e, AuditEvent) else AuditEvent(**vars(e)) for e in events]
            )
        _copy(events)
        return events


_COPY_COLUMNS = [*CONTENT_FIELDS, "hash"]


def _copy(events: list) -> None:
    columns = ", ".join(_COPY_COLUMNS)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {AuditEvent._meta.db_table} ({columns}) FROM STDIN") as copy,
    ):
        for event in events:
            copy.write_row(
                [
                    json.dumps(event.details) if name == "details" else getattr(event, name)
                    for name in _COPY_COLUMNS
                ]
            )


@contextmanager
def purging() -> Iterator[None]:
    """Allow DELETE of audit rows in this transaction (the retention purge, deleting an org)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL cloudsignal.audit_purge = 'on'")
        yield


@dataclass(frozen=True)
class Verdict:
    org_id: str
    checked: int
    broken_at: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None

    def __str__(self) -> str:
        if self.ok:
            return f"{self.org_id}: verified ({self.checked} events)"
        return f"{self.org_id}: broken at event #{self.broken_at}: {self.problem}"


BATCH = 5000
STALE = "an event older than the retention checkpoint is still (or again) there"
MISMATCH = "its hash does not match (modified, or inserted into the chain)"
TRUNCATED = "the last events were deleted"


def _head(org_id: str) -> tuple[int, str]:
    return AuditChainHead.objects.filter(org_id=org_id).values_list("seq", "hash").first() or (0, "")


def verify(org_id: str, progress: Callable[[int, int], None] | None = None) -> Verdict:
    """Walk the org's chain from its last checkpoint to the head as it was when the walk
    began (events appended meanwhile are the next walk's); report the first broken link.
    ``progress(checked, total)`` is called after each batch."""
    head_seq, head_hash = _head(org_id)
    checkpoint = AuditCheckpoint.objects.filter(org_id=org_id).order_by("-seq").first()
    expected, prev = (checkpoint.seq + 1, checkpoint.hash) if checkpoint else (1, "")
    events = AuditEvent.objects.filter(org_id=org_id)
    stale = events.filter(seq__lt=expected).order_by("seq").values_list("seq", flat=True).first()
    if stale is not None:
        return Verdict(org_id, 0, stale, STALE)
    total, checked = head_seq - expected + 1, 0
    while expected <= head_seq:
        batch = events.filter(seq__gte=expected, seq__lte=head_seq).order_by("seq")
        rows = list(batch.values("hash", *CONTENT_FIELDS)[:BATCH])
        if not rows:
            break
        for row in rows:
            if row["seq"] != expected:
                last = row["seq"] - 1
                missing = f"#{expected}" if last == expected else f"#{expected} to #{last}"
                return Verdict(org_id, checked, expected, f"event {missing} is missing (deleted)")
            if link(prev, row) != row["hash"]:
                return Verdict(org_id, checked, expected, MISMATCH)
            prev, expected, checked = row["hash"], expected + 1, checked + 1
        if progress is not None:
            progress(checked, total)
    if expected - 1 != head_seq:
        return Verdict(org_id, checked, expected, f"the chain was written up to #{head_seq} ({TRUNCATED})")
    if head_seq and prev != head_hash:
        return Verdict(org_id, checked, head_seq, MISMATCH)
    return Verdict(org_id, checked)


# The badge verifies a chain this long while the page waits; a longer one in a Celery task
# that reports its progress (a million events take about half a minute).
VERIFY_INLINE = 20_000
VERDICT_TTL = 24 * 3600


def _keys(org_id: str) -> tuple[str, str]:
    seq, digest = _head(org_id)
    return f"audit-verdict:{org_id}:{seq}:{digest}", f"audit-verifying:{org_id}"


def verdict_or_progress(org_id: str) -> tuple[Verdict | None, tuple[int, int] | None]:
    """The verdict for the chain's current head if known (any append or purge changes the
    key); else verify now if the chain is short, or start (or report) the background walk."""
    from django.core.cache import cache

    verdict_key, progress_key = _keys(org_id)
    verdict = cache.get(verdict_key)
    if verdict is not None:
        return verdict, None
    seq, _ = _head(org_id)
    if seq <= VERIFY_INLINE:
        verdict = verify(org_id)
        cache.set(verdict_key, verdict, VERDICT_TTL)
        return verdict, None
    if cache.add(progress_key, (0, seq), 600):  # the first asker starts the walk
        from .tasks import verify_chain

        transaction.on_commit(lambda: verify_chain.delay(org_id))
    return None, cache.get(progress_key)


def verify_and_remember(org_id: str) -> Verdict:
    """The background walk: progress in the cache while it runs, the verdict after."""
    from django.core.cache import cache

    verdict_key, progress_key = _keys(org_id)
    try:
        verdict = verify(org_id, progress=lambda n, total: cache.set(progress_key, (n, total), 600))
        cache.set(verdict_key, verdict, VERDICT_TTL)
        return verdict
    finally:
        cache.delete(progress_key)
