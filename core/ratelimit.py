"""Rate limiting with the `limits` library: Redis when configured, process memory otherwise."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from limits import parse, storage, strategies


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int  # seconds until a request would be allowed again (0 when allowed)


@cache
def _limiter(storage_uri: str) -> strategies.RateLimiter:
    return strategies.MovingWindowRateLimiter(storage.storage_from_string(storage_uri))


def _verdict(limiter, limit, namespace: str, identity: str, allowed: bool) -> Verdict:
    if allowed:
        return Verdict(True, 0)
    reset_at = limiter.get_window_stats(limit, namespace, identity).reset_time
    return Verdict(False, max(1, math.ceil(reset_at - time.time())))


def hit(namespace: str, identity: str, rate: str) -> Verdict:
    """Count one request of ``identity`` against ``rate`` (e.g. "600/minute")."""
    limit = parse(rate)
    limiter = _limiter(settings.REDIS_URL or "memory://")
    return _verdict(limiter, limit, namespace, identity, limiter.hit(limit, namespace, identity))


def peek(namespace: str, identity: str, rate: str) -> Verdict:
    """Whether ``identity`` still has room under ``rate``, without counting a request."""
    limit = parse(rate)
    limiter = _limiter(settings.REDIS_URL or "memory://")
    return _verdict(limiter, limit, namespace, identity, limiter.test(limit, namespace, identity))
