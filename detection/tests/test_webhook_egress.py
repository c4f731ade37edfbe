"""The alert webhook cannot be pointed at the dashboard, its network or the cloud's metadata
service: refused when saved and again at delivery, to the address actually connected to,
without following redirects; its credentials never reach the audit log."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from core import egress
from detection import webhooks
from detection.models import ScanSettings
from detection.tests.tuning import default_form


def _save(client, org, webhook_url):
    return client.post(
        reverse("detection:settings", kwargs={"org_id": org.id}),
        {**default_form(), "webhook_url": webhook_url},
    )


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://127.0.0.1:8000/broker/v1/authn", "loopback"),
        ("http://localhost:8000/", "is this dashboard"),
        ("http://[::1]/hook", "loopback"),
        ("http://0x7f000001/hook", "valid URL"),  # refused by the URL field already
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://10.0.0.5/hook", "private"),
        ("http://192.168.1.1/hook", "private"),
        ("http://100.64.0.1/hook", "private or reserved"),
        ("http://[fd00:ec2::254]/", "private"),
        ("http://224.0.0.1/hook", "multicast"),
        ("http://0.0.0.0/hook", "private or reserved"),
        ("http://no-such-host.invalid/hook", "does not resolve"),
        ("ftp://93.184.215.14/hook", "Use an http:// or https:// URL"),
    ],
)
def test_a_url_to_an_internal_address_is_refused_when_saved(org_a, client_for, url, reason):
    response = _save(client_for(org_a.admin), org_a.org, url)
    assert response.status_code == 422 and reason in response.content.decode(), url
    assert not ScanSettings.objects.filter(org=org_a.org).exclude(webhook_url="").exists()


def test_production_takes_https_only(org_a, client_for, settings):
    settings.EGRESS_HTTPS_ONLY = True
    assert (
        "Use an https:// URL"
        in _save(client_for(org_a.admin), org_a.org, "http://93.184.215.14/h").content.decode()
    )
    assert _save(client_for(org_a.admin), org_a.org, "https://93.184.215.14/h").status_code == 200


def test_the_audit_log_never_holds_the_urls_credentials(org_a, client_for):
    url = "https://alice:s3cret@93.184.215.14:8443/hook?token=abc123"
    assert _save(client_for(org_a.admin), org_a.org, url).status_code == 200
    event = AuditEvent.objects.get(org=org_a.org, action="detection.updated")
    assert event.details["after"]["webhook_url"] == "https://93.184.215.14:8443/hook"
    assert "s3cret" not in str(event.details) and "abc123" not in str(event.details)


class _Hook(BaseHTTPRequestHandler):
    hits: list[str] = []
    redirect_to = ""

    def do_POST(self):  # noqa: N802
        type(self).hits.append(self.headers["Host"])
        self.rfile.read(int(self.headers["Content-Length"]))
        if type(self).redirect_to:
            self.send_response(302)
            self.send_header("Location", type(self).redirect_to)
        else:
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def hook_server():
    _Hook.hits, _Hook.redirect_to = [], ""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


def _set(org, url):
    ScanSettings.objects.update_or_create(org=org, defaults={"webhook_url": url, "webhook_salt": "s"})


def test_redirects_are_not_followed(org_a, hook_server, settings):
    settings.EGRESS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    _Hook.redirect_to = "http://169.254.169.254/latest/meta-data/"
    _set(org_a.org, f"http://127.0.0.1:{hook_server.server_port}/hook")
    with pytest.raises(webhooks.DeliveryFailed, match="redirects are not followed"):
        webhooks.deliver(org_a.org.id, "{}")
    assert len(_Hook.hits) == 1


def test_a_saved_url_is_checked_again_at_delivery(org_a, hook_server, settings):
    settings.EGRESS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    _set(org_a.org, f"http://127.0.0.1:{hook_server.server_port}/hook")
    assert webhooks.deliver(org_a.org.id, "{}") == 204
    settings.EGRESS_ALLOWED_NETWORKS = []  # as if its name now resolved to loopback
    with pytest.raises(webhooks.DeliveryRefused, match="loopback"):
        webhooks.deliver(org_a.org.id, "{}")
    assert len(_Hook.hits) == 1


def test_the_address_checked_is_the_address_connected_to(org_a, hook_server, settings, monkeypatch):
    """A name that resolves once to an allowed address and then to a forbidden one (DNS
    rebinding) is looked up once per delivery, and the connection goes to that answer."""
    settings.EGRESS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    answers = ["127.0.0.1", "169.254.169.254"]
    lookups = []
    real = socket.getaddrinfo

    def rebinding(host, port, *args, **kwargs):
        if host == "hooks.rebind.test":
            lookups.append(host)
            address = answers[min(len(lookups) - 1, 1)]
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    _set(org_a.org, f"http://hooks.rebind.test:{hook_server.server_port}/hook")
    assert webhooks.deliver(org_a.org.id, "{}") == 204
    assert lookups == ["hooks.rebind.test"]  # one lookup: the connection used its answer
    assert _Hook.hits == [f"hooks.rebind.test:{hook_server.server_port}"]  # with the URL's Host
    with pytest.raises(webhooks.DeliveryRefused, match="169.254.169.254"):
        webhooks.deliver(org_a.org.id, "{}")


def test_redaction_keeps_scheme_host_port_and_path():
    assert egress.redacted("https://u:p@h.example:444/a/b?x=1#f") == "https://h.example:444/a/b"
    assert egress.redacted("http://[bad") == "[not a URL]"


def test_the_rule_itself_refuses_what_the_form_would_not_parse():
    with pytest.raises(egress.Refused, match="loopback"):
        egress.check("http://0x7f000001/hook")
