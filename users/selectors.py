"""Reads of MQTT users shared by the pages and the API."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import MqttUser

USER_STATUS_FILTERS = {
    "enabled": Q(enabled=True),
    "disabled": Q(enabled=False),
    "never_seen": Q(last_seen_at__isnull=True),
}


def filter_users(qs: QuerySet[MqttUser], *, q: str = "", status: str = "") -> QuerySet[MqttUser]:
    """Search by name or description and filter by status; ordered by name."""
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(description__icontains=q))
    if status in USER_STATUS_FILTERS:
        qs = qs.filter(USER_STATUS_FILTERS[status])
    return qs.order_by("name")
