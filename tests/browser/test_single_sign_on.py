"""Single sign-on in Chromium, through the real OpenID provider (tests/oidc_idp.py): an owner
turns it on from the settings page and a newcomer signs in through it; a domain that forbids
passwords; an IdP that returns an error; a token altered on the way."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse
from playwright.sync_api import expect

from conftest import PASSWORD, make_user
from orgs.models import Membership, Role, SsoConfig, provider_id_of
from orgs.sso import Settings, configure
from tests.browser.conftest import sign_in
from tests.oidc_idp import running_idp

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("idp_on_loopback"),
]

ALICE = {"email": "alice@acme.test", "email_verified": True, "name": "Alice"}


@pytest.fixture
def owner(org_a):
    org_a.owner.set_password(PASSWORD)
    org_a.owner.save()
    EmailAddress.objects.create(user=org_a.owner, email="boss@acme.test", verified=True)
    return org_a.owner


def callback(live_server, org) -> str:
    return live_server.url + reverse(
        "openid_connect_callback", kwargs={"provider_id": provider_id_of(org.id)}
    )


def at_the_idp(page, idp, login: str) -> None:
    """The provider's own sign-in and consent pages."""
    expect(page).to_have_url(re.compile("^" + re.escape(idp.issuer)))
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()


def through_sso(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Sign in with single sign-on").click()
    page.get_by_label("Work email").fill(email)
    page.get_by_role("button", name="Continue").click()


def test_an_owner_turns_it_on_and_a_newcomer_signs_in_through_it(page, live_server, org_a, owner, artifacts):
    with running_idp(redirect_uris=[callback(live_server, org_a.org)], accounts={"sub-alice": ALICE}) as idp:
        sign_in(page, owner.email, PASSWORD)
        page.goto(f"/o/{org_a.org.id}/settings/sso/")
        expect(page.locator("#sso-callback")).to_contain_text(callback(live_server, org_a.org))
        page.get_by_label("Issuer").fill(idp.issuer)
        page.get_by_label("Client id", exact=True).fill(idp.client_id)
        page.get_by_label("Client secret").fill(idp.client_secret)
        page.get_by_label("Email domains").fill("acme.test")
        page.get_by_label("Role of new members").select_option("admin")
        page.get_by_role("button", name="Turn on single sign-on").click()
        expect(page.get_by_text("Single sign-on saved.")).to_be_visible()
        assert idp.client_secret not in page.content()
        page.screenshot(path=artifacts / "sso-settings.png", full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=artifacts / "sso-settings-phone.png", full_page=True)
        page.set_viewport_size({"width": 1360, "height": 900})
        page.goto("/accounts/logout/")
        page.get_by_role("button", name=re.compile("Sign Out", re.I)).click()

        through_sso(page, "alice@acme.test")
        at_the_idp(page, idp, "sub-alice")
        expect(page).to_have_url(re.compile(f"/o/{org_a.org.id}/"))
        page.screenshot(path=artifacts / "sso-signed-in.png", full_page=True)
    alice = Membership.objects.get(org=org_a.org, user__email="alice@acme.test")
    assert alice.role == Role.ADMIN


def test_a_domain_that_forbids_passwords_sends_its_members_through_the_idp(
    page, live_server, org_a, owner, artifacts
):
    alice = make_user("alice@acme.test", PASSWORD)
    Membership.objects.create(org=org_a.org, user=alice, role=Role.ADMIN)
    with running_idp(redirect_uris=[callback(live_server, org_a.org)], accounts={"sub-alice": ALICE}) as idp:
        values = Settings(idp.issuer, idp.client_id, idp.client_secret, ("acme.test",))
        configure(org=org_a.org, values=values, actor_user=owner)
        SsoConfig.objects.filter(org=org_a.org).update(password_sign_in=False)
        # The password form sends her on to the IdP.
        sign_in(page, alice.email, PASSWORD)
        at_the_idp(page, idp, "sub-alice")
        expect(page).to_have_url(re.compile(f"/o/{org_a.org.id}/"))
        page.context.clear_cookies()
        # A password session (the escape hatch) does not open the org's pages...
        page.goto("/accounts/login/?password=1")
        page.get_by_label("Email").fill(alice.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"/o/{org_a.org.id}/users/")
        expect(
            page.get_by_role("heading", name=re.compile("signs in through its identity provider"))
        ).to_be_visible()
        page.screenshot(path=artifacts / "sso-required.png", full_page=True)
        # ...until she continues through it, and comes back where she was going.
        page.get_by_role("button", name=re.compile("Continue with")).click()
        at_the_idp(page, idp, "sub-alice")
        expect(page).to_have_url(re.compile(f"/o/{org_a.org.id}/users/"))


def test_an_idp_that_returns_an_error(page, live_server, org_a, owner, artifacts):
    with running_idp(redirect_uris=[callback(live_server, org_a.org)], accounts={"sub-alice": ALICE}) as idp:
        configure(
            org=org_a.org,
            values=Settings(idp.issuer, idp.client_id, idp.client_secret, ("acme.test",)),
            actor_user=owner,
        )
        through_sso(page, "alice@acme.test")
        expect(page).to_have_url(re.compile("^" + re.escape(idp.issuer)))
        page.get_by_role("link", name="[ Cancel ]").click()
        expect(page.locator("[data-error]")).to_contain_text("identity provider did not sign you in")
        expect(page.locator("[data-error]")).to_contain_text("aborted")
        page.screenshot(path=artifacts / "sso-idp-error.png", full_page=True)
        page.goto(f"/o/{org_a.org.id}/")
        expect(page).to_have_url(re.compile("/accounts/login/"))  # nobody signed in
    assert not Membership.objects.filter(user__email="alice@acme.test").exists()


def test_a_token_altered_on_the_way_signs_nobody_in(page, live_server, org_a, owner, artifacts):
    uris = [callback(live_server, org_a.org)]
    with running_idp(redirect_uris=uris, accounts={"sub-alice": ALICE}, tamper=True) as idp:
        configure(
            org=org_a.org,
            values=Settings(idp.issuer, idp.client_id, idp.client_secret, ("acme.test",)),
            actor_user=owner,
        )
        through_sso(page, "alice@acme.test")
        at_the_idp(page, idp, "sub-alice")
        expect(page.locator("[data-error]")).to_contain_text("did not sign you in")
        page.screenshot(path=artifacts / "sso-tampered.png", full_page=True)
    assert not Membership.objects.filter(user__email="alice@acme.test").exists()
