"""Reads of the audit log: filters, keyset pages and streamed exports (never OFFSET, never
the whole result in memory)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core import keyset

from .models import AuditEvent
from .services import normal_ip

PAGE_SIZE = 50
EXPORT_BATCH = 2000
EXPORT_FIELDS = [
    "at",
    "action",
    "outcome",
    "actor_type",
    "actor_label",
    "subject_type",
    "subject_label",
    "peer_ip",
    "details",
]


class BadFilter(ValueError):
    """A filter value that cannot be used; the message says which and why."""


def parse_when(value: str, name: str) -> datetime:
    """A filter's date and time (UTC unless it says otherwise); BadFilter saying what is wrong
    for text that is no date, a date that does not exist or one out of range."""
    example = "a date and time such as 2026-11-29T14:00"
    try:
        parsed = parse_datetime(value.strip())
    except ValueError:  # well formed, but no such date or time (2026-13-45T99:99)
        raise BadFilter(f"{name} is not a real date and time: {value!r}; use {example}.") from None
    if parsed is None:
        raise BadFilter(f"{name} must be {example}, not {value!r}.")
    try:
        aware = parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)
        in_utc = aware.astimezone(UTC)  # year 1 at +23:59 has no UTC time
    except (OverflowError, ValueError):
        raise BadFilter(f"{name} is out of range: {value!r}.") from None
    if not 1970 <= in_utc.year <= 9999:
        raise BadFilter(f"{name} must lie between the years 1970 and 9999, not {value!r}.")
    return aware


def parse_ip(value: str) -> str:
    address = normal_ip(value.strip())
    if address is None:
        raise BadFilter(f"{value!r} is not an IP address.")
    return address


def filter_events(qs: QuerySet[AuditEvent], params) -> QuerySet[AuditEvent]:
    """Filters of the audit log: action (a prefix ends with '.'), actor, subject, outcome,
    peer IP, time range. Raises BadFilter with a message for unusable values."""
    action = (params.get("action") or "").strip()
    if action:
        qs = qs.filter(action__startswith=action) if action.endswith(".") else qs.filter(action=action)
    if params.get("actor"):
        qs = qs.filter(actor_label__icontains=params["actor"])
    if params.get("subject"):
        qs = qs.filter(subject_label__icontains=params["subject"])
    if params.get("outcome"):
        if params["outcome"] not in ("success", "failure"):
            raise BadFilter("outcome must be success or failure.")
        qs = qs.filter(outcome=params["outcome"])
    if params.get("ip"):
        qs = qs.filter(peer_ip=parse_ip(params["ip"]))
    if params.get("since"):
        qs = qs.filter(at__gte=parse_when(params["since"], "since"))
    if params.get("until"):
        qs = qs.filter(at__lt=parse_when(params["until"], "until"))
    return qs


def page_of(qs: QuerySet[AuditEvent], cursor: str | None, size: int = PAGE_SIZE) -> tuple[list, str | None]:
    """Newest first, ``size`` at a time after ``cursor``; returns the rows and the next cursor."""
    try:
        return keyset.page(qs, "at", cursor, size)
    except keyset.BadCursor:
        raise BadFilter("That page link is not valid any more; start from the newest events.") from None


def _batches(qs: QuerySet[AuditEvent]) -> Iterator[AuditEvent]:
    cursor = None
    while True:
        rows, cursor = page_of(qs, cursor, EXPORT_BATCH)
        yield from rows
        if cursor is None:
            return


def _row(event: AuditEvent) -> dict:
    return {
        "at": event.at.isoformat(),
        "action": event.action,
        "outcome": event.outcome,
        "actor_type": event.actor_type,
        "actor_label": event.actor_label,
        "subject_type": event.subject_type,
        "subject_label": event.subject_label,
        "peer_ip": event.peer_ip or "",
        "details": event.details,
    }


def export_jsonl(qs: QuerySet[AuditEvent], *, org_id: str | None = None) -> Iterator[str]:
    """The events, then (with ``org_id``) the chain's signed head as the last line: a copy
    of the head outside the database, to show later that the chain reached it."""
    from . import chain

    head = chain.head_record(org_id) if org_id else None  # taken before: the events reach it
    for event in _batches(qs):
        yield json.dumps(_row(event), separators=(",", ":")) + "\n"
    if head is not None:
        yield json.dumps({"chain_head": head}, separators=(",", ":")) + "\n"


def export_csv(qs: QuerySet[AuditEvent]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    yield buffer.getvalue()
    for event in _batches(qs):
        buffer.seek(0)
        buffer.truncate()
        row = _row(event)
        row["details"] = json.dumps(row["details"], separators=(",", ":"))
        writer.writerow(row)
        yield buffer.getvalue()
