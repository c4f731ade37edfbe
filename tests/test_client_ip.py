"""The client's address of a dashboard request, with and without trusted proxies."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from audit.services import peer_ip_of
from core.client_ip import client_ip


@pytest.mark.parametrize(
    "proxies, forwarded, expected",
    [
        (0, "", "203.0.113.5"),
        (0, "198.51.100.1", "203.0.113.5"),  # no proxy: the header is anyone's to write
        (1, "198.51.100.1", "198.51.100.1"),
        (1, "192.0.2.66, 198.51.100.1", "198.51.100.1"),  # the client's own entry is ignored
        (2, "192.0.2.66, 198.51.100.1, 10.1.1.1", "198.51.100.1"),
        (2, "198.51.100.1", "203.0.113.5"),  # fewer entries than proxies: the socket's
        (1, "not-an-address", "203.0.113.5"),
        (1, "2001:DB8::1", "2001:db8::1"),
    ],
)
def test_the_client_address(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected
    assert peer_ip_of(request) == expected  # the audit log records the same address
