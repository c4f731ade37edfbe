"""Second factors in Chromium: enrol an authenticator app and sign in with it, lose it and
use a recovery code; enrol a security key (Chromium's virtual authenticator, WebAuthn) and
sign in with it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.tests.test_mfa import totp
from conftest import PASSWORD
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def person(org_a):
    org_a.admin.set_password(PASSWORD)
    org_a.admin.save()
    return org_a.admin


def _sign_out(page):
    page.goto("/accounts/logout/")
    page.get_by_role("button", name=re.compile("Sign Out", re.I)).click()


def test_authenticator_app_then_a_recovery_code(page, person, org_a, artifacts):
    sign_in(page, person.email, PASSWORD)
    page.goto("/accounts/2fa/totp/activate/")
    secret = page.locator("#authenticator_secret").input_value()
    page.screenshot(path=artifacts / "mfa-activate.png", full_page=True)
    page.get_by_label(re.compile("Authenticator code", re.I)).fill(totp(secret))
    page.get_by_role("button", name=re.compile("Activate", re.I)).click()
    page.goto("/accounts/2fa/recovery-codes/")
    codes = re.findall(r"\b\d{8}\b", page.locator("#recovery_codes").input_value())
    assert len(codes) >= 8
    _sign_out(page)

    # Without the factor: the password alone does not reach any org page.
    sign_in(page, person.email, PASSWORD)
    expect(page).to_have_url(re.compile("/accounts/2fa/authenticate/"))
    page.goto(f"/o/{org_a.org.id}/")
    expect(page).to_have_url(re.compile("/accounts/(login|2fa/authenticate)/"))  # not the org
    page.goto("/accounts/2fa/authenticate/")
    page.get_by_label(re.compile("code", re.I)).fill(totp(secret))
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(re.compile(f"/o/{org_a.org.id}/"))
    _sign_out(page)

    # The phone is gone: a recovery code instead.
    sign_in(page, person.email, PASSWORD)
    page.get_by_label(re.compile("code", re.I)).fill(codes[0])
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(re.compile(f"/o/{org_a.org.id}/"))


def test_a_security_key_through_the_virtual_authenticator(page, person, org_a, settings, artifacts):
    settings.MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True  # the test server is http://localhost
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    sign_in(page, person.email, PASSWORD)
    page.goto("/accounts/2fa/webauthn/add/")
    page.get_by_label("Name").fill("Laptop key")
    page.locator("#mfa_webauthn_add").click()
    expect(page).not_to_have_url(re.compile("/webauthn/add/"), timeout=10_000)
    page.screenshot(path=artifacts / "mfa-key-added.png", full_page=True)
    from allauth.mfa.models import Authenticator

    assert Authenticator.objects.filter(user=person, type="webauthn").count() == 1
    _sign_out(page)

    sign_in(page, person.email, PASSWORD)
    expect(page).to_have_url(re.compile("/accounts/2fa/authenticate/"))
    page.locator("#mfa_webauthn_authenticate").click()
    expect(page).to_have_url(re.compile(f"/o/{org_a.org.id}/"), timeout=10_000)
