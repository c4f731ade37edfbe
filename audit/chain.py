"""The tamper-evident audit log: one hash chain per org.

Each event carries ``seq`` (its place in the org's chain) and ``hash`` =
HMAC-SHA256(key, previous hash + canonical content). The key is derived from the
server's pepper, so someone who can write to the database but not read the server's
configuration cannot forge a chain that verifies. Appends take the org's
``AuditChainHead`` row lock, which serialises them per org; a retention purge records an
``AuditCheckpoint`` so the remaining chain still verifies (``verify``), and appends an
``audit.purged`` event saying so.

What is not an event is signed too, so nothing around the chain can be moved without the
key: the head (``head_mac``) and every checkpoint (``checkpoint_mac``). ``verify`` refuses
an event past the head or before the checkpoint, a missing or altered head, a checkpoint
no purge event confirms, and a head set back below one it verified before: each head it
finds intact is kept in ``AuditVerifiedHead``, apart from the row it checks.

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
from django.utils import timezone

from .models import Action, AuditChainHead, AuditCheckpoint, AuditEvent, AuditVerifiedHead

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


def _mac(*parts) -> str:
    key = _key(settings.SECRETS_PEPPER)
    return hmac.new(key, "\n".join(str(p) for p in parts).encode(), hashlib.sha256).hexdigest()


def head_mac(org_id: str, seq: int, hash_: str) -> str:
    return _mac("head", org_id, seq, hash_)


def checkpoint_mac(org_id: str, seq: int, hash_: str, purged: int, cutoff) -> str:
    return _mac("checkpoint", org_id, seq, hash_, purged, cutoff.astimezone(UTC).isoformat())


def _values(event) -> dict:
    return {name: getattr(event, name) for name in CONTENT_FIELDS}


def lock_head(org_id: str) -> AuditChainHead:
    heads = AuditChainHead.objects.select_for_update()
    head = heads.filter(org_id=org_id).first()
    if head is None:
        with connection.cursor() as cursor:  # two first appends may race: one insert wins
            cursor.execute(
                f"INSERT INTO {AuditChainHead._meta.db_table} (org_id, seq, hash, mac) "
                "VALUES (%s, 0, '', %s) ON CONFLICT DO NOTHING",
                [org_id, head_mac(org_id, 0, "")],
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
            head.mac = head_mac(org_id, head.seq, head.hash)
            head.save(update_fields=["seq", "hash", "mac"])
        if returning or connection.vendor != "postgresql":
            return AuditEvent.objects.bulk_create(
                [e if isinstance(e, AuditEvent) else AuditEvent(**vars(e)) for e in events]
            )
        _copy(events)
        return events


_COPY_COLUMNS = [*CONTENT_FIELDS, "hash"]
PURGE_ACTION = Action.AUDIT_PURGED


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
NO_HEAD = "the chain's head is missing (deleted)"
BAD_HEAD = "the chain's head was altered: its MAC does not match"
BAD_CHECKPOINT = "the retention checkpoint was forged or altered: its MAC does not match"
UNCONFIRMED_CHECKPOINT = "no audit.purged event of the chain confirms the retention checkpoint"
PAST_HEAD = "an event lies past the chain's head (inserted)"


def _head(org_id: str) -> tuple[int, str]:
    return AuditChainHead.objects.filter(org_id=org_id).values_list("seq", "hash").first() or (0, "")


def _last_verified(org_id: str) -> AuditVerifiedHead | None:
    for row in AuditVerifiedHead.objects.filter(org_id=org_id).order_by("-seq")[:20]:
        if row.mac == head_mac(org_id, row.seq, row.hash):  # a forged row is no evidence
            return row
    return None


def _frame(org_id: str):
    """The head, the checkpoint the walk starts from, and the first problem around them."""
    head = AuditChainHead.objects.filter(org_id=org_id).first()
    checkpoint = AuditCheckpoint.objects.filter(org_id=org_id).order_by("-seq").first()
    verified = _last_verified(org_id)
    events = AuditEvent.objects.filter(org_id=org_id)
    if head is None:
        if checkpoint is not None or events.exists() or (verified is not None and verified.seq > 0):
            return None, checkpoint, verified, NO_HEAD, 0
        return None, None, verified, "", 0  # a chain never written to
    if head.mac != head_mac(org_id, head.seq, head.hash):
        return head, checkpoint, verified, BAD_HEAD, head.seq
    if verified is not None and head.seq < verified.seq:
        problem = (
            f"the chain was rolled back: verified up to #{verified.seq} before, its head is now #{head.seq}"
        )
        return head, checkpoint, verified, problem, head.seq + 1
    if checkpoint is not None:
        mac = checkpoint_mac(org_id, checkpoint.seq, checkpoint.hash, checkpoint.purged, checkpoint.cutoff)
        if checkpoint.mac != mac:
            return head, checkpoint, verified, BAD_CHECKPOINT, checkpoint.seq
        confirmed = events.filter(
            action=PURGE_ACTION, seq__gt=checkpoint.seq, details__checkpoint_seq=checkpoint.seq
        ).exists()
        if not confirmed:
            return head, checkpoint, verified, UNCONFIRMED_CHECKPOINT, checkpoint.seq
    return head, checkpoint, verified, "", 0


def verify(
    org_id: str, progress: Callable[[int, int], None] | None = None, *, remember: bool = False
) -> Verdict:
    """Walk the org's chain from its last checkpoint to the head as it was when the walk
    began (events appended meanwhile are the next walk's); report the first broken link.
    ``progress(checked, total)`` is called after each batch. ``remember`` (the verifier's
    own runs) keeps an intact head in AuditVerifiedHead, so a later rollback shows."""
    head, checkpoint, verified, problem, at = _frame(org_id)
    if problem:
        return Verdict(org_id, 0, at, problem)
    if head is None:
        return Verdict(org_id, 0)
    head_seq, head_hash = head.seq, head.hash
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
            if verified is not None and row["seq"] == verified.seq and row["hash"] != verified.hash:
                return Verdict(org_id, checked, expected, "the chain was rewritten since it was verified")
            prev, expected, checked = row["hash"], expected + 1, checked + 1
        if progress is not None:
            progress(checked, total)
    if expected - 1 != head_seq:
        return Verdict(org_id, checked, expected, f"the chain was written up to #{head_seq} ({TRUNCATED})")
    if head_seq and prev != head_hash:
        return Verdict(org_id, checked, head_seq, MISMATCH)
    # Appends during the walk move the head in the same transaction as their events: an
    # event past the head as it is now was never appended.
    now_seq, _ = _head(org_id)
    past = events.filter(seq__gt=max(now_seq, head_seq)).order_by("seq").values_list("seq", flat=True).first()
    if past is not None:
        return Verdict(org_id, checked, past, PAST_HEAD)
    if remember and (verified is None or head_seq > verified.seq):
        AuditVerifiedHead.objects.create(
            org_id=org_id, seq=head_seq, hash=head_hash, mac=head.mac, verified_at=timezone.now()
        )
    return Verdict(org_id, checked)


def head_record(org_id: str) -> dict:
    """The head as a signed record, for copies kept outside the database (exports, the
    webhook): whoever holds one can later show the chain reached it."""
    head = AuditChainHead.objects.filter(org_id=org_id).first()
    if head is None:
        return {"org": org_id, "seq": 0, "hash": "", "mac": head_mac(org_id, 0, "")}
    return {"org": org_id, "seq": head.seq, "hash": head.hash, "mac": head.mac}


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
        verdict = verify(org_id, remember=True)
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
        verdict = verify(
            org_id, progress=lambda n, total: cache.set(progress_key, (n, total), 600), remember=True
        )
        cache.set(verdict_key, verdict, VERDICT_TTL)
        return verdict
    finally:
        cache.delete(progress_key)
