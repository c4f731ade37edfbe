"""Reads of the audit log: filters, keyset pages and streamed exports (never OFFSET, never
the whole result in memory)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from django.db.models import QuerySet

from core import keyset
from core.filters import BadFilter, filter_time_range, parse_ip

from .models import ACTION_GROUPS, Action, AuditEvent

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


def filter_events(qs: QuerySet[AuditEvent], params) -> QuerySet[AuditEvent]:
    """Filters of the audit log: action (a prefix ends with '.'), actor, subject, outcome,
    peer IP, time range. Raises BadFilter with a message for unusable values."""
    action = (params.get("action") or "").strip()
    if action:
        if action not in Action.values and action not in ACTION_GROUPS:
            raise BadFilter(
                "action must be one of the log's actions or a group such as auth. "
                f"(ending in a dot), not {action!r}."
            )
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
    qs = filter_time_range(qs, params, "at")
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
