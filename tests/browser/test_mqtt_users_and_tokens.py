"""Create an MQTT user and see its secret once; mint a token and revoke it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from core import credentials
from users.models import MqttUser, TempToken

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_create_a_user_see_the_secret_once_then_mint_and_revoke_a_token(admin_page, org_a, artifacts):
    page = admin_page
    page.goto(f"/o/{org_a.org.id}/users/")
    expect(page.get_by_text("No MQTT users yet")).to_be_visible()
    page.get_by_role("link", name="Create the first MQTT user").click()

    # A bad name is explained in place; nothing is created.
    page.get_by_label("Name").fill("Not Valid!")
    page.get_by_role("button", name="Create and reveal the secret").click()
    expect(page.locator(".invalid-feedback")).to_contain_text("1 to 64 characters")
    assert not MqttUser.objects.exists()

    page.get_by_label("Name").fill("dashboard")
    page.get_by_label("Description").fill("The ops console")
    page.get_by_role("button", name="Create and reveal the secret").click()
    secret = page.get_by_test_id("secret").inner_text()
    user = MqttUser.objects.get(name="dashboard")
    assert user.secret_digest == credentials.digest(secret)
    expect(page).to_have_url(re.compile(f"/o/{org_a.org.id}/users/dashboard/$"))
    expect(page.get_by_text("mosquitto_pub over TLS")).to_be_visible()
    page.screenshot(path=str(artifacts / "user-secret-reveal.png"), full_page=True)

    page.reload()
    expect(page.get_by_role("heading", level=1)).to_contain_text("dashboard")
    assert secret not in page.content()
    page.screenshot(path=str(artifacts / "user-detail.png"), full_page=True)

    # Mint a token from the user's page, then revoke it.
    page.get_by_role("link", name="Mint a token").click()
    page.get_by_label("Label").fill("browser test")
    page.get_by_role("button", name="Mint and reveal").click()
    value = page.get_by_test_id("token-value").inner_text()
    token = TempToken.objects.get()
    assert value.startswith(f"cst_{token.id}_") and token.secret_digest == credentials.digest(
        value.split("_", 2)[2]
    )
    # The list beside the revealed token already shows it (no reload), without its secret.
    expect(page.locator(f"#token-list #token-{token.id}")).to_be_visible()
    assert value not in page.locator("#token-list").inner_html()
    page.get_by_role("link", name="Done").click()
    row = page.locator(f"#token-{token.id}")
    expect(row.get_by_test_id("token-status")).to_have_text("active")
    assert value not in page.content()
    page.screenshot(path=str(artifacts / "tokens.png"), full_page=True)

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Revoke").click()
    expect(page.locator(f"#token-{token.id}").get_by_test_id("token-status")).to_have_text("revoked")
    expect(page.get_by_role("alert").first).to_contain_text("is revoked")
    assert TempToken.objects.get().status == "revoked"
