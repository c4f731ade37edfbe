"""Sign-in throttling: what a guesser is counted by.

django-axes locks an (account, address) pair after AXES_FAILURE_LIMIT failures. Two wider
limits sit beside it (the `limits` library, as for token minting): failures from one
address across every account (a guesser spraying many accounts) and failures against one
account from every address (a guesser spread over many addresses). Accounts are counted
by their normalised email (stripped and case-folded: "viCtim@X" is "victim@x"); addresses
are the client's own, read through the reverse proxies the operator declared
(TRUSTED_PROXY_COUNT), never the proxy's address and never a header a client can forge.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from core import ratelimit
from core.client_ip import client_ip


def normal_username(request: HttpRequest | None, credentials: dict | None) -> str:
    """The account a sign-in attempt names, as every throttle counts it (AXES_USERNAME_CALLABLE)."""
    credentials = credentials or {}
    value = credentials.get("email", credentials.get("username"))  # allauth's, Django's
    if value is None and request is not None:
        value = request.POST.get(settings.AXES_USERNAME_FORM_FIELD, "")
    return str(value or "").strip().casefold()


def _limits(request: HttpRequest, username: str) -> list[tuple[str, str, str]]:
    limits = [("login-address", client_ip(request) or "", settings.LOGIN_FAILURES_PER_ADDRESS)]
    if username:
        limits.append(("login-account", username, settings.LOGIN_FAILURES_PER_ACCOUNT))
    return limits


def wider_limit_reached(request: HttpRequest, username: str) -> int:
    """Seconds to wait when the address or the account used up its failures, else 0."""
    waits = [
        ratelimit.peek(ns, identity, rate).retry_after for ns, identity, rate in _limits(request, username)
    ]
    return max(waits, default=0)


def count_failure(request: HttpRequest, username: str) -> None:
    for namespace, identity, rate in _limits(request, username):
        ratelimit.hit(namespace, identity, rate)
