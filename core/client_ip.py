"""The address of the client of a dashboard request: one rule for the audit log and the
sign-in throttle.

Without a proxy it is the socket's address (REMOTE_ADDR); X-Forwarded-For, which any
client can write, is ignored. Behind TRUSTED_PROXY_COUNT reverse proxies, each of which
appends the address it received the request from, it is the entry that many places from
the right: what a client wrote to the left of it is ignored too.

(django-ipware's proxy count expects the proxies' own addresses in the header as well, so
behind one nginx it finds no client at all; hence these few lines.)
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest


@lru_cache(maxsize=4096)  # the broker's hot path sees the same addresses again and again
def normal_ip(value: str | None) -> str | None:
    """The address as the database gives it back (the audit chain hashes what is stored),
    or None for anything that is not an address."""
    try:
        return str(ipaddress.ip_address(value.strip())) if value else None
    except ValueError:
        return None


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        entries = [e for e in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if e.strip()]
        if len(entries) >= count:
            address = normal_ip(entries[-count])
            if address is not None:
                return address
    return normal_ip(request.META.get("REMOTE_ADDR") or "")
