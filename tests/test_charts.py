from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from core.charts import bar_chart
from sessions.models import MqttSession


def _session(world, minutes_before_this_hour: int, n: int):
    # Relative to the start of the current hour, so the test never straddles a bucket edge.
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    MqttSession.objects.create(
        org=world.org,
        username="u",
        client_id=f"c{n}",
        connected_at_ms=n,
        connected_at=hour - timedelta(minutes=minutes_before_this_hour),
    )


def test_hourly_and_daily_buckets(org_a, org_b):
    for n, minutes in enumerate([0, 0, 0, 30, 60 * 30]):  # 3 this hour, 1 the hour before, 1 a day ago
        _session(org_a, minutes, n)
    _session(org_b, 0, 99)
    qs = MqttSession.objects.filter(org=org_a.org)
    hourly = bar_chart("Connections", qs, "connected_at", "24h")
    assert len(hourly.bars) == 24 and hourly.total == 4 and hourly.peak == 3
    assert hourly.bars[-1].count == 3 and hourly.bars[-2].count == 1
    assert hourly.bars[-1].height > hourly.bars[-2].height > 0
    daily = bar_chart("Connections", qs, "connected_at", "7d")
    assert len(daily.bars) == 7 and daily.total == 5


def test_an_empty_chart_has_flat_bars(org_a):
    chart = bar_chart("Nothing", MqttSession.objects.filter(org=org_a.org), "connected_at")
    assert chart.total == 0 and all(bar.height == 0 for bar in chart.bars)
