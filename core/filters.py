"""Filter values of list pages and API lists: one rule for what is refused and how it is
said (a BadFilter carries the sentence the page or the API shows)."""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .client_ip import normal_ip


class BadFilter(ValueError):
    """A filter value that cannot be used; the message says which and why."""


def parse_when(value: str, name: str) -> datetime:
    """A filter's date and time (UTC unless it says otherwise); BadFilter saying what is wrong
    for text that is no date, a date that does not exist or one out of range."""
    example = "a date and time such as 2026-11-29T14:00"
    try:
        parsed = parse_datetime(value.strip())
    except ValueError:  # well formed, but no such date or time (2026-13-45T99:99)
        raise BadFilter(f"{name} is not a real date and time: {value!r}; use {example}.") from None
    if parsed is None:
        raise BadFilter(f"{name} must be {example}, not {value!r}.")
    try:
        aware = parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)
        in_utc = aware.astimezone(UTC)  # year 1 at +23:59 has no UTC time
    except (OverflowError, ValueError):
        raise BadFilter(f"{name} is out of range: {value!r}.") from None
    if not 1970 <= in_utc.year <= 9999:
        raise BadFilter(f"{name} must lie between the years 1970 and 9999, not {value!r}.")
    return aware


def filter_time_range(qs, params, field: str):
    """Rows with ``field`` at or after ``since`` and before ``until`` (either may be absent);
    BadFilter when the range is empty by construction, rather than an empty list."""
    since = parse_when(params["since"], "since") if params.get("since") else None
    until = parse_when(params["until"], "until") if params.get("until") else None
    if since and until and since >= until:
        raise BadFilter("since must be before until: nothing can lie between them.")
    if since:
        qs = qs.filter(**{f"{field}__gte": since})
    if until:
        qs = qs.filter(**{f"{field}__lt": until})
    return qs


def parse_ip(value: str) -> str:
    address = normal_ip(value.strip())
    if address is None:
        raise BadFilter(f"{value!r} is not an IP address.")
    return address
