"""Values read by plain SQL on the hot paths, made what the ORM would have given.

The ORM converts column values per backend; a plain cursor does not. On SQLite (`make
run`) a datetime column comes back naive (it is stored in UTC) and a boolean as 0/1.
"""

from __future__ import annotations

from datetime import UTC, datetime


def aware(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
