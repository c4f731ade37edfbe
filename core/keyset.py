"""Keyset pagination (never OFFSET): newest first on (a time column, the primary key) for
the audit log, sessions, tokens and alerts; by a unique name for lists in name order.

The cursor is "<microseconds since the epoch>_<pk>" of the last row shown. The filter is
written ``t <= T AND (t < T OR pk < P)``: the first half is a range PostgreSQL reads
straight from the (org, -t, -pk) index, so a page a million rows deep costs what the
first one does; the plain ``t < T OR (t = T AND pk < P)`` makes it scan from the top.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
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
    return _after(qs, field, at, pk, descending=True)


def _after(qs: QuerySet, field: str, value, pk, *, descending: bool) -> QuerySet:
    """Rows after (``value``, ``pk``) in (``field``, pk) order, written as the module's
    docstring says so that the index range does the work."""
    wide, strict = ("lte", "lt") if descending else ("gte", "gt")
    return qs.filter(**{f"{field}__{wide}": value}).filter(
        Q(**{f"{field}__{strict}": value}) | Q(**{f"pk__{strict}": pk})
    )


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


@dataclass(frozen=True)
class Order:
    """A column a person may sort a list by: a field (or annotation) and its direction.
    ``-name`` in the query string is the same column the other way round."""

    field: str
    descending: bool = False

    def reversed(self) -> Order:
        return Order(self.field, not self.descending)


def order_of(orders: dict[str, Order], sort: str | None, default: str) -> Order:
    """The Order that ``sort`` (``name`` or ``-name``) names; ValueError naming the choices."""
    sort = sort or default
    order = orders.get(sort.removeprefix("-"))
    if order is None:
        raise ValueError(f"sort must be one of {', '.join(orders)} (or -name for the reverse).")
    return order.reversed() if sort.startswith("-") else order


def _encode(value, pk) -> str:
    kind = "d" if isinstance(value, datetime) else "v"
    raw = json.dumps([kind, value.isoformat() if kind == "d" else value, pk])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_ordered(cursor: str, pk_type: type):
    try:
        kind, value, pk = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if kind == "d":
            value = datetime.fromisoformat(value)
        elif kind != "v" or not isinstance(value, str | int) or isinstance(value, bool):
            raise ValueError(kind)
        return value, pk_type(pk)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise BadCursor(cursor) from None


def page_ordered(
    qs: QuerySet, order: Order, cursor: str | None, size: int, pk_type: type = int
) -> tuple[list, str | None]:
    """``size`` rows in ``order`` (ties by primary key) after ``cursor``, and the next
    cursor (or None): the keyset of a list a person sorted by one of its columns."""
    sign = "-" if order.descending else ""
    qs = qs.order_by(f"{sign}{order.field}", f"{sign}pk")
    if cursor:
        value, pk = _decode_ordered(cursor, pk_type)
        qs = _after(qs, order.field, value, pk, descending=order.descending)
    rows = list(qs[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return rows, (_encode(getattr(rows[-1], order.field), rows[-1].pk) if more and rows else None)
