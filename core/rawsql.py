"""Plain SQL on the hot paths: prepared where the database allows, and its values made
what the ORM would have given.

The ORM converts column values per backend; a plain cursor does not. On SQLite (`make
run`) a datetime column comes back naive (it is stored in UTC) and a boolean as 0/1.
"""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections


def fetchone(sql: str, params: list) -> tuple | None:
    """One row of ``sql``, as a server-side prepared statement on PostgreSQL.

    Django's cursors bind parameters on the client, so PostgreSQL parses and plans every
    query again: for the broker's authn query that planning is three quarters of its
    database time. Prepared statements are off when ``DB_PREPARED_STATEMENTS`` is (for a
    pooler in transaction mode in front of PostgreSQL); then this is a Django cursor.
    """
    db = connections[DEFAULT_DB_ALIAS]  # one lookup: each through the proxy costs a context-local read
    db.ensure_connection()
    raw = db.connection
    if db.vendor != "postgresql" or raw.prepare_threshold is None:
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    # Django's own error wrapping: a broken connection is marked and closed after the request.
    with db.wrap_database_errors, psycopg.Cursor(raw) as cursor:
        cursor.execute(sql, params, prepare=True)
        return cursor.fetchone()


def aware(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
