"""Acting where the problem is and finding things, in Chromium: bulk selection with its
confirmation, responding from an alert, the client page, the search box by keyboard, and
page titles that follow htmx swaps."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from audit.services import Actor
from detection.models import Alert
from sessions.models import Revocation
from users.models import MqttUser
from users.services import user_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_bulk_disable_counts_the_checked_rows_and_asks_first(admin_page, org_a, artifacts):
    page = admin_page
    for i in range(3):
        user_create(org=org_a.org, name=f"dev-{i}", actor=Actor.system())
    page.goto(f"/o/{org_a.org.id}/users/")
    disable = page.get_by_role("button", name="Disable", exact=True)
    expect(disable).to_be_disabled()  # nothing checked yet
    page.get_by_label("Select dev-0").check()
    page.get_by_label("Select dev-2").check()
    expect(page.locator("[data-selected-count]")).to_have_text("2")
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    disable.click()
    page.wait_for_timeout(200)
    assert asked and asked[0].startswith("Disable 2 MQTT users?")
    assert not MqttUser.objects.filter(enabled=False).exists()  # dismissed: nothing sent
    page.once("dialog", lambda dialog: dialog.accept())
    disable.click()
    expect(page.get_by_text("2 MQTT users disabled")).to_be_visible()
    assert set(MqttUser.objects.filter(enabled=False).values_list("name", flat=True)) == {"dev-0", "dev-2"}
    page.get_by_text("All on this page").click()
    expect(page.locator("[data-selected-count]")).to_have_text(str(MqttUser.objects.count()))
    page.screenshot(path=artifacts / "users-bulk.png", full_page=True)


def test_respond_from_an_alert_then_see_the_client_gone(admin_page, org_a, artifacts):
    page = admin_page
    session = org_a.session  # a live client of mqtt_user
    now = session.connected_at
    alert = Alert.objects.create(
        org=org_a.org,
        detector="shared_credentials",
        subject=f"user {org_a.mqtt_user.username}",
        severity="high",
        summary="connected twice at once",
        first_seen=now,
        last_seen=now,
    )
    page.goto(f"/o/{org_a.org.id}/alerts/{alert.pk}/")
    respond = page.locator("#respond")
    expect(respond.get_by_role("link", name=session.client_id)).to_be_visible()
    page.screenshot(path=artifacts / "alert-respond.png", full_page=True)
    page.once("dialog", lambda dialog: dialog.accept())
    respond.get_by_role("button", name=re.compile(f"Disconnect {session.client_id}")).click()
    expect(page.get_by_role("alert").filter(has_text=f"Disconnected {session.client_id}")).to_be_visible()
    expect(page.get_by_test_id("alert-history")).to_contain_text("Acted on from an alert")
    assert Revocation.objects.filter(client_id=session.client_id).exists()
    page.get_by_role("link", name=session.client_id).first.click()
    expect(page.get_by_test_id("client-facts")).to_contain_text("MQTT 5.0")
    expect(page.get_by_test_id("subscriptions")).to_contain_text(f"{org_a.org.id}/in/#")
    page.screenshot(path=artifacts / "client-page.png", full_page=True)


def test_slash_focuses_the_search_and_htmx_pages_name_themselves(admin_page, org_a):
    page = admin_page
    user = org_a.mqtt_user
    page.goto(f"/o/{org_a.org.id}/alerts/")
    page.keyboard.press("/")
    page.keyboard.type(user.name[:8])
    page.keyboard.press("Enter")
    expect(page).to_have_title(re.compile(r"^Search: "))
    page.get_by_role("link", name=user.name).click()
    expect(page).to_have_title(f"{user.name} · {org_a.org.name} · CloudSignal")
    # Creating a user answers htmx with the reveal page swapped into <main>: the tab follows.
    page.goto(f"/o/{org_a.org.id}/users/new/")
    expect(page).to_have_title(f"New MQTT user · {org_a.org.name} · CloudSignal")
    page.get_by_label("Name").fill("swapped-in")
    page.get_by_role("button", name="Create and reveal the secret").click()
    expect(page).to_have_title(f"Secret of swapped-in · {org_a.org.name} · CloudSignal")
    assert page.evaluate("document.querySelectorAll('main title, #main title').length") == 0
