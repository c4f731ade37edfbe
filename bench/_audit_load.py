"""Loading many hash-chained audit events fast (COPY), for the audit benchmarks."""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.db import connection

from audit import chain
from audit.models import AuditChainHead

COLUMNS = [
    "org_id", "at", "actor_type", "actor_id", "actor_label", "action", "subject_type", "subject_id",
    "subject_label", "outcome", "peer_ip", "details", "seq", "hash",
]  # fmt: skip


def copy_chained(per_org: Iterable[tuple[str, Iterable[dict]]]) -> int:
    """COPY each org's events (dicts of chain.CONTENT_FIELDS without seq, in order) as a new
    chain of that org; returns how many were written."""
    heads, written = [], 0
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY audit_auditevent ({', '.join(COLUMNS)}) FROM STDIN") as copy,
    ):
        for org_id, events in per_org:
            prev, seq = "", 0
            for values in events:
                seq += 1
                values = {**values, "org_id": org_id, "seq": seq}
                prev = chain.link(prev, values)
                copy.write_row(
                    [*(json.dumps(values[c]) if c == "details" else values[c] for c in COLUMNS[:-1]), prev]
                )
            heads.append(AuditChainHead(org_id=org_id, seq=seq, hash=prev))
            written += seq
    AuditChainHead.objects.bulk_create(heads)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_auditevent")
    return written
