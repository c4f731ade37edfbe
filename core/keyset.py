"""Keyset pagination (never OFFSET): newest first on (a time column, the primary key) for
the audit log, sessions, tokens and alerts; by a unique name for lists in name order.

The cursor is "<microseconds since the epoch>_<pk>" of the last row shown. The filter is
written ``t <= T AND (t < T OR pk < P)``: the first half is a range PostgreSQL reads
straight from the (org, -t, -pk) index, so a page a million rows deep costs what the
first one does; the plain ``t < T OR (t = T AND pk < P)`` makes it scan from the top.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db.models import Q, QuerySet

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class BadCursor(ValueError):
    """A cursor that was not made by ``cursor_of`` (edited, or from another list)."""


def cursor_of(row, field: str) -> str:
    micros = (getattr(row, field) - EPOCH) // timedelta(microseconds=1)  # exact, unlike a float
    return f"{micros}_{row.pk}"


def _decode(cursor: str, pk_type: type = int) -> tuple[datetime, int | str]:
    stamp, _, pk = cursor.partition("_")
    try:
        if not pk:
            raise ValueError(cursor)
        return EPOCH + timedelta(microseconds=int(stamp)), pk_type(pk)
    except (ValueError, OverflowError, OSError):
        raise BadCursor(cursor) from None


def older_than(qs: QuerySet, field: str, at: datetime, pk) -> QuerySet:
    """Rows after (``at``, ``pk``) in newest-first order."""
    return qs.filter(**{f"{field}__lte": at}).filter(Q(**{f"{field}__lt": at}) | Q(pk__lt=pk))


def page(
    qs: QuerySet, field: str, cursor: str | None, size: int, pk_type: type = int
) -> tuple[list, str | None]:
    """``size`` rows newest first after ``cursor``, and the cursor of the next page (or None).
    ``pk_type`` reads the key back (``str`` for text keys). Raises BadCursor for a cursor it
    cannot read."""
    qs = qs.order_by(f"-{field}", "-pk")
    if cursor:
        qs = older_than(qs, field, *_decode(cursor, pk_type))
    rows = list(qs[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return rows, (cursor_of(rows[-1], field) if more and rows else None)


def page_by_name(qs: QuerySet, field: str, after: str | None, size: int) -> tuple[list, str | None]:
    """``size`` rows in ``field`` order (unique within ``qs``) after the value ``after``, and
    the value to pass for the next page (or None)."""
    qs = qs.order_by(field)
    if after:
        qs = qs.filter(**{f"{field}__gt": after})
    rows = list(qs[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return rows, (getattr(rows[-1], field) if more and rows else None)
