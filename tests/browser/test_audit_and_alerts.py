"""Issue 6 in a real browser: filter and export the audit log, acknowledge an alert, the checklist."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from audit.services import Actor, Subject, record_event
from conftest import PASSWORD
from detection import anomalies
from detection.models import Alert
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _signed_in(page, world):
    world.admin.set_password(PASSWORD)
    world.admin.save()
    sign_in(page, world.admin.email, PASSWORD)


def test_filter_the_audit_log_open_a_change_and_export(page, org_a, artifacts):
    now = timezone.now()
    for i in range(30):
        record_event(
            org_a.org,
            "auth.failure" if i % 3 == 0 else "auth.success",
            actor=Actor("mqtt_user", "", f"device-{i}@{org_a.org.id}"),
            subject=Subject("mqtt_user", "", f"device-{i}"),
            peer_ip=f"203.0.113.{i % 4}",
            outcome="failure" if i % 3 == 0 else "success",
            details={"reason": "bad_secret" if i % 3 == 0 else "secret", "transport": "mqtts"},
            at=now - timedelta(minutes=30 - i),
        )
    record_event(
        org_a.org,
        "mqtt_user.updated",
        actor=Actor.member(org_a.admin),
        subject=Subject("mqtt_user", "", "device-1"),
        before={"description": "old text"},
        after={"description": "new text"},
    )
    _signed_in(page, org_a)
    page.goto(f"/o/{org_a.org.id}/audit/")
    expect(page.get_by_test_id("chain-badge")).to_contain_text("Chain verified")
    page.get_by_label("Outcome").select_option("failure")
    page.get_by_placeholder("Peer IP").fill("203.0.113.0")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(3)  # i = 0, 12, 24 fail from .0
    expect(page.locator("tbody")).not_to_contain_text("success")
    page.screenshot(path=str(artifacts / "audit-log.png"), full_page=True)
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    lines = open(download.value.path()).read().strip().splitlines()
    assert len(lines) == 4 and all("auth.failure" in line for line in lines[1:])
    page.goto(f"/o/{org_a.org.id}/audit/?action=mqtt_user.updated")
    page.locator("tbody tr a").first.click()
    expect(page.get_by_test_id("diff")).to_contain_text("old text")
    expect(page.get_by_test_id("diff")).to_contain_text("new text")
    page.screenshot(path=str(artifacts / "audit-detail.png"), full_page=True)


def test_acknowledge_and_resolve_an_alert_and_see_the_checklist(page, org_a, artifacts):
    now = timezone.now()
    for i in range(12):
        record_event(
            org_a.org,
            "auth.failure",
            actor=Actor("mqtt_user", "", f"sensor-7@{org_a.org.id}"),
            peer_ip="192.0.2.66",
            outcome="failure",
            details={"reason": "bad_secret"},
            at=now - timedelta(seconds=60 - i),
        )
    anomalies.scan_org(org_a.org)
    _signed_in(page, org_a)
    page.goto(f"/o/{org_a.org.id}/")
    checklist = page.get_by_test_id("checklist")
    expect(checklist.locator("li")).to_have_count(6)
    expect(checklist).to_contain_text("2 open alerts")
    expect(checklist.locator("li[data-state=pass]").first).to_be_visible()
    page.screenshot(path=str(artifacts / "overview-checklist.png"), full_page=True)
    checklist.get_by_role("link", name="2 open alerts").click()
    expect(page.locator("tbody tr")).to_have_count(2)
    page.screenshot(path=str(artifacts / "alerts.png"), full_page=True)
    page.get_by_role("link", name="address 192.0.2.66").click()
    expect(page.get_by_test_id("evidence").locator("li")).to_have_count(10)
    page.get_by_label("Comment").fill("Blocking 192.0.2.66 at the firewall")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_test_id("alert-status")).to_have_text("acknowledged")
    expect(page.get_by_role("alert").first).to_contain_text("Alert updated")
    page.screenshot(path=str(artifacts / "alert-detail.png"), full_page=True)
    page.get_by_role("button", name="Resolve").click()  # without a comment: refused, nothing lost
    expect(page.locator(".invalid-feedback, .alert-danger").first).to_contain_text("Say how it was resolved")
    page.get_by_label("Comment").fill("Firewall rule in place")
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_test_id("alert-status")).to_have_text("resolved")
    alert = Alert.objects.get(org=org_a.org, subject="address 192.0.2.66")
    assert alert.status == "resolved" and "Firewall rule in place" in alert.comment


def test_tune_a_detector_and_see_the_webhook_secret_once(page, org_a, artifacts):
    _signed_in(page, org_a)
    page.goto(f"/o/{org_a.org.id}/settings/detection/")
    page.get_by_label("Brute force: failures").fill("1")
    page.get_by_role("button", name="Save detection settings").click()
    expect(page.locator(".invalid-feedback").first).to_contain_text("Use at least 2.")
    page.get_by_label("Brute force: failures").fill("20")
    # The cloud's metadata service is refused, with the reason beside the field.
    webhook = page.get_by_label("Webhook URL (alerts are POSTed here, signed)")
    webhook.fill("http://169.254.169.254/latest/meta-data/")
    page.get_by_role("button", name="Save detection settings").click()
    expect(page.locator(".invalid-feedback").first).to_contain_text("link-local")
    webhook.fill("https://93.184.215.14/cs")  # a public address (no DNS on this machine)
    page.get_by_role("button", name="Save detection settings").click()
    secret = page.get_by_test_id("webhook-secret").inner_text()
    assert secret.startswith("whsec_")
    page.screenshot(path=str(artifacts / "webhook-secret.png"), full_page=True)
    page.reload()
    expect(page.get_by_label("Brute force: failures")).to_have_value("20")
    assert secret not in page.content()
