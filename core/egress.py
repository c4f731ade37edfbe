"""Requests the dashboard sends to addresses an org chose (the alert webhook, an SSO issuer): never to the
dashboard itself, its network or the cloud's metadata service.

``check(url)`` is the one rule, applied when the URL is saved (the form says why it is
refused) and again at every delivery, since DNS answers change. ``post(url, ...)`` connects
to the very address that was checked (no second lookup an attacker's DNS could answer
differently), sends the Host and TLS server name of the URL, verifies the certificate, and
follows no redirect. ``redacted(url)`` is what may be logged or audited: no userinfo, no
query string (either may carry a credential).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings


class Refused(ValueError):
    """A destination the dashboard does not send to; the message says why."""


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str
    port: int
    address: str  # the checked address, the one connected to
    target: str  # path and query


def _allowed_networks() -> list:
    return [ipaddress.ip_network(n, strict=False) for n in settings.EGRESS_ALLOWED_NETWORKS]


def _refusal(address) -> str | None:
    if any(address in network for network in _allowed_networks()):
        return None
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address (cloud metadata lives there)"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private or not address.is_global:
        return "a private or reserved address"
    return None


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


def check(url: str) -> Destination:
    """The destination of ``url`` if the dashboard may send to it; Refused otherwise."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise Refused("This is not a valid URL.") from None
    schemes = ("https",) if settings.EGRESS_HTTPS_ONLY else ("http", "https")
    if parts.scheme not in schemes:
        raise Refused(f"Use an {' or '.join(s + '://' for s in schemes)} URL.")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise Refused("The URL names no host.")
    if not _is_address(host):  # an address is judged by the address rule below
        own = {h.lower().lstrip(".") for h in settings.ALLOWED_HOSTS if h and h != "*"}
        if host in own or any(host.endswith("." + h) for h in own):
            raise Refused(f"{host} is this dashboard: it does not send requests to itself.")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Refused(f"{host} does not resolve.") from None
    addresses = [ipaddress.ip_address(a[4][0].split("%")[0]) for a in answers]
    for address in addresses:
        why = _refusal(address)
        if why is not None:
            raise Refused(
                f"{host} resolves to {address}, {why}: the dashboard only connects to public addresses."
            )
    target = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    return Destination(parts.scheme, host, port, str(addresses[0]), target)


def redacted(url: str) -> str:
    """``url`` without userinfo and query string, for logs and the audit log."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
    except ValueError:
        return "[not a URL]"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class _Pinned(http.client.HTTPSConnection):
    """HTTPS to a checked address, with the URL's host for SNI and certificate checks."""

    def __init__(self, destination: Destination, timeout: float):
        super().__init__(
            destination.host, destination.port, timeout=timeout, context=ssl.create_default_context()
        )
        self.destination = destination

    def connect(self):
        raw = socket.create_connection((self.destination.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.destination.host)


class _PinnedPlain(http.client.HTTPConnection):
    def __init__(self, destination: Destination, timeout: float):
        super().__init__(destination.host, destination.port, timeout=timeout)
        self.destination = destination

    def connect(self):
        self.sock = socket.create_connection((self.destination.address, self.port), self.timeout)


def post(url: str, body: bytes, headers: dict, *, timeout: float) -> int:
    """POST ``body``; the HTTP status. Raises Refused for a destination not allowed (now),
    and OSError for a network failure. A redirect is answered as its status, not followed."""
    destination = check(url)
    connection = (_Pinned if destination.scheme == "https" else _PinnedPlain)(destination, timeout)
    try:
        connection.request("POST", destination.target, body=body, headers=headers)
        response = connection.getresponse()
        response.read(65536)
        return response.status
    finally:
        connection.close()
