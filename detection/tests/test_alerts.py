"""Alert pages and actions, the alerts API, detection settings, the webhook and the checklist."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import Actor, record_event
from detection import checklist, webhooks
from detection.models import Alert, ScanSettings, WebhookDelivery
from detection.tasks import deliver_webhook
from detection.tests.tuning import default_form, tune
from orgs.models import Organization
from sessions.models import MqttSession


def _url(world, name, **kwargs):
    return reverse(name, kwargs={"org_id": world.org.id, **kwargs})


def test_alert_list_filters_and_detail_links_the_evidence(org_a, client_for):
    alert = org_a.alert
    event = record_event(org_a.org, "auth.failure", actor=Actor("mqtt_user", "", "x"), outcome="failure")
    alert.evidence = [
        {
            "kind": "event",
            "id": event.pk,
            "seq": event.seq,
            "label": "auth.failure x",
            "at": event.at.isoformat(),
        }
    ]
    alert.save()
    client = client_for(org_a.auditor)
    page = client.get(_url(org_a, "alerts:list")).content.decode()
    assert alert.subject in page and "Brute force" in page
    assert (
        alert.subject not in client.get(_url(org_a, "alerts:list"), {"status": "resolved"}).content.decode()
    )
    assert client.get(_url(org_a, "alerts:list"), {"status": "nope"}).status_code == 400
    assert client.get(_url(org_a, "alerts:list"), {"detector": "nope"}).status_code == 400
    detail = client.get(_url(org_a, "alerts:detail", alert_id=alert.pk)).content.decode()
    assert _url(org_a, "audit:detail", seq=event.seq) in detail
    assert "Acknowledge" not in detail  # auditors read


def test_acknowledge_then_resolve_is_audited(org_a, client_for):
    alert = org_a.alert
    client = client_for(org_a.admin)
    response = client.post(_url(org_a, "alerts:acknowledge", alert_id=alert.pk), {"comment": "looking"})
    assert response.status_code == 302
    again = client.post(_url(org_a, "alerts:acknowledge", alert_id=alert.pk), {"comment": ""})
    assert again.status_code == 422 and "Only an open alert" in again.content.decode()
    empty = client.post(_url(org_a, "alerts:resolve", alert_id=alert.pk), {"comment": " "})
    assert empty.status_code == 422 and "Say how it was resolved" in empty.content.decode()
    client.post(_url(org_a, "alerts:resolve", alert_id=alert.pk), {"comment": "blocked the address"})
    alert.refresh_from_db()
    assert alert.status == "resolved" and alert.resolved_by == org_a.admin.email
    actions = list(
        AuditEvent.objects.filter(org=org_a.org, subject_id=alert.pk)
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["alert.acknowledged", "alert.resolved"]
    assert client.post(_url(org_a, "alerts:resolve", alert_id=alert.pk), {"comment": "x"}).status_code == 422
    too_long = client.post(_url(org_a, "alerts:resolve", alert_id=org_a.alert.pk), {"comment": "x" * 2001})
    assert too_long.status_code == 422


def test_alerts_api_pages_by_status(api, org_a, org_b):
    now = timezone.now()
    for i in range(5):
        Alert.objects.create(
            org=org_a.org,
            detector="flapping",
            subject=f"client c{i}",
            severity="medium",
            summary="s",
            first_seen=now,
            last_seen=now - timedelta(minutes=i),
            status="resolved" if i == 4 else "open",
        )
    org_b.alert  # noqa: B018 (another org's alert must never show)
    first = api.get("/alerts?limit=2").json()
    assert [a["subject"] for a in first["alerts"]] == ["client c0", "client c1"]
    second = api.get(f"/alerts?limit=2&after={first['next']}").json()
    assert [a["subject"] for a in second["alerts"]] == ["client c2", "client c3"] and second["next"] is None
    assert [a["subject"] for a in api.get("/alerts?status=resolved").json()["alerts"]] == ["client c4"]
    assert len(api.get("/alerts?status=all").json()["alerts"]) == 5
    assert api.get("/alerts?status=bogus").status_code == 422
    assert api.get(f"/alerts?after={org_b.alert.pk}").status_code == 422
    assert api.get("/alerts?limit=0").status_code == 422


def test_detection_settings_validate_and_reveal_the_webhook_secret_once(org_a, client_for):
    client = client_for(org_a.admin)
    url = _url(org_a, "detection:settings")
    assert client.get(url).status_code == 200
    form = {**default_form(), "brute_force_failures": 1, "webhook_url": "ftp://example.com/hook"}
    bad = client.post(url, form)
    text = bad.content.decode()
    assert bad.status_code == 422 and "Use at least 2." in text and "Use an http:// or https:// URL" in text
    assert ScanSettings.objects.get(org=org_a.org).values.brute_force_failures == 10  # nothing half-applied
    form.update(brute_force_failures=20, webhook_url="https://93.184.215.14/cs")  # public: no DNS here
    revealed = client.post(url, form)
    secret = webhooks.signing_secret(org_a.org.id, ScanSettings.objects.get(org=org_a.org).webhook_salt)
    assert revealed.status_code == 200 and secret in revealed.content.decode()
    assert secret not in client.get(url).content.decode()
    assert ScanSettings.objects.get(org=org_a.org).values.brute_force_failures == 20
    event = AuditEvent.objects.get(org=org_a.org, action="detection.updated")
    assert event.details["after"]["brute_force_failures"] == 20 and secret not in json.dumps(event.details)
    client.post(url, {**form, "rotate_secret": "on"})
    assert (
        webhooks.signing_secret(org_a.org.id, ScanSettings.objects.get(org=org_a.org).webhook_salt) != secret
    )
    assert client_for(org_a.auditor).post(url, form).status_code == 403


class _Receiver(BaseHTTPRequestHandler):
    statuses: list[int] = []
    received: list[tuple[dict, bytes]] = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.headers, body))
        self.send_response(type(self).statuses.pop(0) if type(self).statuses else 204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver(settings):
    """A local receiver; loopback is allowed for it (the egress rule refuses it otherwise)."""
    settings.EGRESS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    _Receiver.statuses, _Receiver.received = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, _Receiver
    server.shutdown()


def test_webhook_is_signed_and_retried(org_a, receiver, settings):
    server, handler = receiver
    salt = webhooks.new_salt()
    ScanSettings.objects.update_or_create(
        org=org_a.org,
        defaults={"webhook_url": f"http://127.0.0.1:{server.server_port}/hook", "webhook_salt": salt},
    )
    body = json.dumps(webhooks.payload(org_a.alert, "alert.opened"))
    handler.statuses = [500, 502]  # two failures, then 204
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert deliver_webhook.apply(args=[org_a.org.id, body]).get() == 204
    assert len(handler.received) == 3
    headers, raw = handler.received[-1]
    stamp, mac = headers[webhooks.HEADER].split(",")
    secret = webhooks.signing_secret(org_a.org.id, salt)
    expected = hmac.new(secret.encode(), stamp[2:].encode() + b"." + raw, hashlib.sha256).hexdigest()
    assert mac == f"v1={expected}" and json.loads(raw)["alert"]["id"] == org_a.alert.pk
    with pytest.raises(webhooks.DeliveryFailed, match="answered 500"):
        handler.statuses = [500]
        webhooks.deliver(org_a.org.id, body)


def test_the_delivery_log_follows_each_attempt_and_its_retries(
    org_a, receiver, settings, client_for, django_capture_on_commit_callbacks
):
    server, handler = receiver
    ScanSettings.objects.update_or_create(
        org=org_a.org, defaults={"webhook_url": f"http://user:pw@127.0.0.1:{server.server_port}/h?k=s"}
    )
    settings.CELERY_TASK_ALWAYS_EAGER = True
    handler.statuses = [503]  # one failure, then 204
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.announce(org_a.alert, "alert.opened")
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("delivered", 2, 204)
    assert "pw" not in delivery.url and "k=s" not in delivery.url  # kept redacted
    handler.statuses = [500] * 9
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.announce(org_a.alert, "alert.opened")  # eager: the retries run at once
    failed = WebhookDelivery.objects.order_by("-id").first()
    assert (failed.status, failed.attempts, failed.response_status) == ("failed", 9, 500)
    page = client_for(org_a.auditor).get(reverse("detection:settings", kwargs={"org_id": org_a.org.id}))
    text = page.content.decode()
    assert "Webhook deliveries" in text and "HTTP 500" in text and "Delivered" in text
    assert "Send a test alert" not in text  # auditors read the log, they do not send


def test_send_a_test_alert_shows_the_receivers_answer(org_a, receiver, client_for):
    server, handler = receiver
    url = reverse("detection:webhook_test", kwargs={"org_id": org_a.org.id})
    client = client_for(org_a.admin)
    none = client.post(url, HTTP_HX_REQUEST="true")
    assert "Set a webhook URL" in none.content.decode() and not WebhookDelivery.objects.exists()
    ScanSettings.objects.update_or_create(
        org=org_a.org,
        defaults={"webhook_url": f"http://127.0.0.1:{server.server_port}/", "webhook_salt": "s"},
    )
    ok = client.post(url, HTTP_HX_REQUEST="true").content.decode()
    assert "Delivered: http://127.0.0.1" in ok and "answered 204" in ok
    assert json.loads(handler.received[-1][1])["type"] == "test"
    handler.statuses = [500]
    failed = client.post(url, HTTP_HX_REQUEST="true").content.decode()
    assert "Not delivered" in failed and "answered 500" in failed
    assert list(WebhookDelivery.objects.values_list("status", "attempts")) == [
        ("delivered", 1),
        ("failed", 1),
    ]
    assert AuditEvent.objects.filter(action="detection.webhook_tested").count() == 2
    assert client_for(org_a.auditor).post(url).status_code == 403


def test_a_test_alert_to_a_private_address_is_refused_and_logged(org_a, client_for):
    """An admin must not use the test button to probe the dashboard's own network."""
    ScanSettings.objects.update_or_create(org=org_a.org, defaults={"webhook_url": "http://10.0.0.1:6379/"})
    url = reverse("detection:webhook_test", kwargs={"org_id": org_a.org.id})
    page = client_for(org_a.admin).post(url, HTTP_HX_REQUEST="true").content.decode()
    assert "Not delivered" in page and WebhookDelivery.objects.get().status == "refused"


def test_a_new_alert_is_announced_after_the_scan_commits(
    org_a, receiver, django_capture_on_commit_callbacks, settings
):
    from detection import anomalies

    server, handler = receiver
    settings.CELERY_TASK_ALWAYS_EAGER = True
    ScanSettings.objects.update_or_create(
        org=org_a.org,
        defaults={
            "webhook_url": f"http://127.0.0.1:{server.server_port}/",
            "webhook_salt": "s",
        },
    )
    tune(org_a.org, brute_force_failures=2)
    now = timezone.now()
    for _ in range(2):
        record_event(
            org_a.org, "auth.failure", actor=Actor("mqtt_user", "", "x"), peer_ip="192.0.2.1", at=now
        )
    with django_capture_on_commit_callbacks(execute=True):
        anomalies.scan_org(org_a.org, now=now)
    # Two findings: the username "x" and the address, each its own alert.
    assert [json.loads(b)["type"] for _, b in handler.received] == ["alert.opened", "alert.opened"]
    with django_capture_on_commit_callbacks(execute=True):
        anomalies.scan_org(org_a.org, now=now)  # no repeat, no announcement
    assert len(handler.received) == 2


def test_checklist_states(org_a):
    org = org_a.org
    items = {item.title: item for item in checklist.checklist(org)}
    assert items["Session history is monitored"].state == "pending"  # a new org: its first scan is due
    Organization.objects.filter(pk=org.pk).update(created_at=timezone.now() - timedelta(minutes=6))
    org.refresh_from_db()
    items = {item.title: item for item in checklist.checklist(org)}
    assert items["Session history is monitored"].state == "fail"  # no scan since: the scheduler is down
    assert items["Connections use TLS"].state == "warn"  # nothing to judge
    now = timezone.now()
    user = org_a.mqtt_user
    for i, transport in enumerate(["mqtts", "mqtts", "mqtt", "wss"]):
        MqttSession.objects.create(
            org=org,
            user=user,
            username=user.username,
            client_id=f"c{i}",
            connected_at_ms=i + 1,
            connected_at=now,
            transport=transport,
        )
    from acls.services import user_acl_save

    user_acl_save(
        user=user,
        rules=[{"permission": "allow", "action": "all", "topic": "#"}],
        rule_sets=[],
        revision=0,
        actor=Actor.system(),
    )
    ScanSettings.objects.update_or_create(org=org, defaults={"last_scan_at": now, "last_scan_ms": 3})
    items = {item.title: item for item in checklist.checklist(org)}
    assert items["Connections use TLS"].state == "fail" and "25%" in items["Connections use TLS"].detail
    assert items["ACLs are least-privilege"].state == "fail"
    assert items["Browser apps use temporary tokens"].state == "fail"
    assert items["Credentials are rotated"].state == "pass"
    assert items["Session history is monitored"].state == "pass"
    assert items["Each client has its own credentials"].state == "pass"
    org_a.alert.__class__.objects.create(
        org=org,
        detector="shared_credentials",
        subject="user x",
        severity="medium",
        summary="s",
        first_seen=now - timedelta(days=8),
        last_seen=now,
    )
    items = {item.title: item for item in checklist.checklist(org)}
    assert items["Each client has its own credentials"].state == "fail"
    assert items["Session history is monitored"].state == "warn"  # an alert open for 8 days


def test_overview_shows_the_checklist(org_a, client_for):
    page = client_for(org_a.auditor).get(_url(org_a, "detection:overview")).content.decode()
    assert "Security checklist" in page and "Connections use TLS" in page


def test_audit_detail_shows_the_change_side_by_side(org_a, client_for):
    event = record_event(
        org_a.org,
        "mqtt_user.updated",
        actor=Actor.system(),
        before={"enabled": True},
        after={"enabled": False},
        details={"comment": "why"},
    )
    page = client_for(org_a.auditor).get(_url(org_a, "audit:detail", seq=event.seq)).content.decode()
    assert 'data-testid="diff"' in page and "table-warning" in page and "why" in page and event.hash in page


def test_the_chain_badge(org_a, client_for):
    badge = client_for(org_a.auditor).get(_url(org_a, "audit:verify")).content.decode()
    assert "Chain verified" in badge


def test_evidence_recorded_before_event_urls_were_per_org_gets_its_seq(org_a):
    import importlib

    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    migration = importlib.import_module("audit.migrations.0010_alert_evidence_seq")
    # The models as that migration saw them (Alert was audit's then; the table is the same).
    apps = MigrationExecutor(connection).loader.project_state(("audit", "0010_alert_evidence_seq")).apps
    event = AuditEvent.objects.filter(org=org_a.org).order_by("seq").first()
    alert = org_a.alert
    alert.evidence = [
        {"kind": "event", "id": event.pk, "label": "old"},
        {"kind": "event", "id": 10**9, "label": "purged since"},
        {"kind": "user", "name": "x", "label": "x"},
    ]
    alert.save()
    migration.add_seq(apps, None)
    alert.refresh_from_db()
    assert [item.get("seq") for item in alert.evidence] == [event.seq, None, None]


def test_the_overview_offers_the_brokers_ca_and_the_snippets_name_it(org_a, client_for, settings, tmp_path):
    from users.snippets import connection_snippets

    client = client_for(org_a.auditor)
    overview = reverse("detection:overview", kwargs={"org_id": org_a.org.id})
    ca_url = reverse("detection:ca", kwargs={"org_id": org_a.org.id})
    settings.MQTT_CA_FILE = str(tmp_path / "missing.pem")
    assert client.get(ca_url).status_code == 404
    assert "system's trust store" in client.get(overview).content.decode()
    shell = connection_snippets(org_a.mqtt_user, "s3cret")[0]["code"]
    assert "--capath /etc/ssl/certs" in shell and "ca.pem" not in shell
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    settings.MQTT_CA_FILE = str(tmp_path / "ca.pem")
    response = client.get(ca_url)
    assert response.status_code == 200 and response.content.startswith(b"-----BEGIN CERTIFICATE-----")
    assert response["Content-Disposition"] == 'attachment; filename="ca.pem"'
    assert f'href="{ca_url}"' in client.get(overview).content.decode()
    snippets = connection_snippets(org_a.mqtt_user, "s3cret")
    assert "--cafile ca.pem" in snippets[0]["code"] and 'tls_set(ca_certs="ca.pem")' in snippets[1]["code"]
