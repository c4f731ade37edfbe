"""Plain SQL on the hot paths: prepared on PostgreSQL; on SQLite (`make run`) its naive
datetimes made aware."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection

from core.rawsql import aware, fetchone


def test_aware_treats_naive_values_as_utc_and_keeps_aware_ones():
    assert aware(None) is None
    assert aware(datetime(2026, 11, 29, 7, 0)) == datetime(2026, 11, 29, 7, 0, tzinfo=UTC)
    assert aware("2026-11-29 07:00:00.123456") == datetime(2026, 11, 29, 7, 0, 0, 123456, tzinfo=UTC)
    plus_one = datetime(2026, 11, 29, 8, 0, tzinfo=timezone(timedelta(hours=1)))
    assert aware(plus_one) is plus_one


def _prepared(sql_start: str) -> list:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [s for (s,) in cursor.fetchall() if s.strip().startswith(sql_start)]


@pytest.mark.django_db
def test_fetchone_prepares_its_query_once_per_connection_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    sql = "SELECT %s::int + 1, 'rawsql test'"
    assert fetchone(sql, [41]) == (42, "rawsql test")
    assert fetchone(sql, [1]) == (2, "rawsql test")
    assert len(_prepared("SELECT $1::int + 1, 'rawsql test'")) == 1


@pytest.mark.django_db
def test_with_prepared_statements_off_fetchone_uses_a_plain_cursor(monkeypatch):
    # DB_PREPARED_STATEMENTS=false (a pooler in transaction mode): nothing is prepared.
    connection.ensure_connection()
    monkeypatch.setattr(connection.connection, "prepare_threshold", None)
    assert fetchone("SELECT %s::int * 2, 'rawsql off'", [21]) == (42, "rawsql off")
    if connection.vendor == "postgresql":
        assert _prepared("SELECT $1::int * 2") == [] and _prepared("SELECT 21::int * 2") == []
