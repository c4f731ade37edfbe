"""Plain-SQL reads on SQLite (`make run`) give naive datetimes; the hot paths make them aware."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from cloudsignal_dashboard.rawsql import aware


def test_aware_treats_naive_values_as_utc_and_keeps_aware_ones():
    assert aware(None) is None
    assert aware(datetime(2026, 11, 29, 7, 0)) == datetime(2026, 11, 29, 7, 0, tzinfo=UTC)
    assert aware("2026-11-29 07:00:00.123456") == datetime(2026, 11, 29, 7, 0, 0, 123456, tzinfo=UTC)
    plus_one = datetime(2026, 11, 29, 8, 0, tzinfo=timezone(timedelta(hours=1)))
    assert aware(plus_one) is plus_one
