"""The Sessions page: what connected, the live view, and an admin's Disconnect."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import PASSWORD
from sessions.models import MqttSession, Revocation
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sessions_live_view_and_disconnect(page, org_a, artifacts):
    now = timezone.now()
    for i, (transport, live) in enumerate(
        [("mqtts", True), ("wss", True), ("mqtt", False), ("mqtts", False)]
    ):
        MqttSession.objects.create(
            org=org_a.org,
            username=f"device-{i}@{org_a.org.id}",
            client_id=f"client-{i}",
            connected_at_ms=1000 + i,
            connected_at=now,
            transport=transport,
            peer_ip=f"198.51.100.{i + 1}",
            peer_port=50000 + i,
            disconnected_at=None if live else now,
            disconnect_reason="" if live else "normal",
        )
    org_a.admin.set_password(PASSWORD)
    org_a.admin.save()
    sign_in(page, org_a.admin.email, PASSWORD)
    page.goto(f"/o/{org_a.org.id}/sessions/")
    expect(page.get_by_test_id("live-count")).to_have_text("2")
    expect(page.get_by_test_id("session-row")).to_have_count(4)
    page.get_by_role("link", name="Live view").click()
    expect(page.get_by_test_id("session-row")).to_have_count(2)
    page.screenshot(path=str(artifacts / "sessions.png"), full_page=True)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("session-row").filter(has_text="client-0").get_by_role(
        "button", name="Disconnect"
    ).click()
    expect(page.get_by_role("alert").first).to_contain_text("client-0 is being disconnected")
    assert Revocation.objects.get().client_id == "client-0"


def test_a_stale_page_link_on_a_users_sessions_tab_says_what_to_do(page, org_a, artifacts):
    from audit.services import Actor
    from users.services import user_create

    user, _ = user_create(org=org_a.org, name="device-9", actor=Actor.system())
    MqttSession.objects.create(
        org=org_a.org,
        user=user,
        username=user.username,
        client_id="client-9",
        connected_at_ms=1,
        connected_at=timezone.now(),
        transport="mqtts",
    )
    org_a.auditor.set_password(PASSWORD)
    org_a.auditor.save()
    sign_in(page, org_a.auditor.email, PASSWORD)
    response = page.goto(f"/o/{org_a.org.id}/users/device-9/?tab=sessions&before=stale")
    assert response.status == 400
    expect(page.get_by_role("alert")).to_contain_text("That page link is not valid any more")
    page.screenshot(path=str(artifacts / "user-sessions-stale-link.png"), full_page=True)
    expect(page.get_by_text("No sessions yet")).to_have_count(0)  # it has some: no empty state
    page.get_by_role("link", name="Newest sessions").click()
    expect(page.get_by_text("client-9")).to_be_visible()
