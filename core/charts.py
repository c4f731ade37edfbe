"""Activity over time as small server-side SVG bar charts (no JavaScript library)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDay, TruncHour
from django.utils import timezone

RANGES = {"24h": (24, timedelta(hours=1), TruncHour), "7d": (7, timedelta(days=1), TruncDay)}
WIDTH, HEIGHT = 600, 120


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    count: int


@dataclass(frozen=True)
class Chart:
    title: str
    bars: list[Bar]
    total: int
    peak: int
    width: int = WIDTH
    height: int = HEIGHT


def bar_chart(title: str, qs: QuerySet, field: str, span: str = "24h") -> Chart:
    """Counts of ``qs`` per hour (24h) or per day (7d) by the datetime ``field``."""
    buckets, step, trunc = RANGES[span]
    now = timezone.now()
    start = (now - step * (buckets - 1)).replace(minute=0, second=0, microsecond=0)
    if span == "7d":
        start = start.replace(hour=0)
    counts = {
        row["bucket"]: row["n"]
        for row in qs.filter(**{f"{field}__gte": start})
        .annotate(bucket=trunc(field))
        .values("bucket")
        .annotate(n=Count("id"))
        .order_by()
    }
    series = [(start + step * i, counts.get(start + step * i, 0)) for i in range(buckets)]
    peak = max((n for _, n in series), default=0)
    slot = WIDTH / buckets
    bars = []
    for i, (when, n) in enumerate(series):
        h = 0 if peak == 0 else max(1.0, (HEIGHT - 16) * n / peak)
        label = when.strftime("%H:00") if span == "24h" else when.strftime("%a %d")
        bars.append(Bar(x=i * slot + 1, y=HEIGHT - h, width=slot - 2, height=h, label=label, count=n))
    return Chart(title, bars, sum(n for _, n in series), peak)
