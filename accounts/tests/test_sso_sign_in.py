"""Signing in through an org's OpenID provider, against a real one (tests/oidc_idp.py): the
subject is bound to one account, members join just in time with the mapped role, and what
another org's IdP, an unverified email, an IdP error or a tampered token get."""

from __future__ import annotations

import html
import re

import pytest
from allauth.socialaccount.models import SocialAccount
from django.core.exceptions import ValidationError
from django.urls import reverse

from audit.models import Action, AuditEvent
from conftest import make_org, make_user
from orgs import sso
from orgs.models import Membership, Role, SsoConfig, provider_id_of
from tests.oidc_idp import running_idp

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("idp_on_loopback")]

ALICE = {"email": "alice@acme.test", "email_verified": True, "name": "Alice", "groups": ["mqtt-admins"]}


@pytest.fixture
def acme(db):
    world = make_org("Acme", "acme")
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=world.owner, email="boss@acme.test", verified=True)
    return world


def callback_uri(org) -> str:
    return "http://testserver" + reverse(
        "openid_connect_callback", kwargs={"provider_id": provider_id_of(org.id)}
    )


def configure(world, idp, **overrides):
    values = {
        "issuer": idp.issuer,
        "client_id": idp.client_id,
        "client_secret": idp.client_secret,
        "domains": ("acme.test",),
        "default_role": Role.AUDITOR,
        **overrides,
    }
    return sso.configure(org=world.org, values=sso.Settings(**values), actor_user=world.owner)


def continue_url(response) -> str:
    """Where the continue page sends the person (a meta refresh, CSP-safe)."""
    assert response.status_code == 200, response.content[:500]
    found = re.search(r'http-equiv="refresh" content="0;url=([^"]+)"', response.content.decode())
    assert found, "no way on to the identity provider"
    return html.unescape(found.group(1))


def start(client, email: str) -> str:
    return continue_url(client.post(reverse("accounts:sso_start"), {"email": email}))


def finish(client, url: str):
    return client.get(url.removeprefix("http://testserver"))


def test_a_first_sign_in_creates_the_account_and_its_membership_and_binds_the_subject(client, acme):
    with running_idp(redirect_uris=[callback_uri(acme.org)], accounts={"sub-alice": ALICE}) as idp:
        configure(acme, idp)
        authorize = start(client, "alice@acme.test")
        assert authorize.startswith(idp.issuer) and "code_challenge=" in authorize
        assert "login_hint=alice%40acme.test" in authorize
        response = finish(client, idp.sign_in(authorize, "sub-alice"))
    assert response.status_code == 302
    account = SocialAccount.objects.get(provider=provider_id_of(acme.org.id))
    assert account.uid == "sub-alice" and account.user.email == "alice@acme.test"
    assert not account.user.has_usable_password()
    assert account.user.emailaddress_set.get().verified
    membership = Membership.objects.get(org=acme.org, user=account.user)
    assert membership.role == Role.AUDITOR
    assert client.get(reverse("detection:overview", kwargs={"org_id": acme.org.id})).status_code == 200
    joined = AuditEvent.objects.get(org=acme.org, action=Action.MEMBER_ADDED, subject_label="alice@acme.test")
    assert joined.details["via"] == "single sign-on" and joined.actor_type == "system"


def test_groups_map_to_roles_on_every_sign_in_and_never_to_owner(client, acme):
    with running_idp(redirect_uris=[callback_uri(acme.org)], accounts={"sub-alice": ALICE}) as idp:
        configure(acme, idp, group_roles={"mqtt-admins": Role.ADMIN})
        finish(client, idp.sign_in(start(client, "alice@acme.test"), "sub-alice"))
        alice = Membership.objects.get(org=acme.org, user__email="alice@acme.test")
        assert alice.role == Role.ADMIN
        # The IdP drops her from the group: the next sign-in takes the role back.
        configure(acme, idp, group_roles={"other-group": Role.ADMIN})
        client.logout()
        finish(client, idp.sign_in(start(client, "alice@acme.test"), "sub-alice"))
    alice.refresh_from_db()
    assert alice.role == Role.AUDITOR
    with pytest.raises(ValidationError, match="not a role single sign-on gives"):
        sso.parse_group_roles("mqtt-admins = owner")


def test_an_existing_member_is_linked_once_and_then_found_by_subject(client, acme):
    alice = make_user("alice@acme.test")
    Membership.objects.create(org=acme.org, user=alice, role=Role.ADMIN)
    with running_idp(redirect_uris=[callback_uri(acme.org)], accounts={"sub-alice": ALICE}) as idp:
        configure(acme, idp)
        finish(client, idp.sign_in(start(client, "alice@acme.test"), "sub-alice"))
        assert SocialAccount.objects.get(uid="sub-alice").user == alice
        # Her email changes at the IdP: the subject still finds her account.
        client.logout()
    renamed = {**ALICE, "email": "alice.smith@acme.test"}
    with running_idp(redirect_uris=[callback_uri(acme.org)], accounts={"sub-alice": renamed}) as idp:
        SsoConfig.objects.filter(org=acme.org).update(issuer=idp.issuer)  # same IdP, new port
        finish(client, idp.sign_in(start(client, "alice.smith@acme.test"), "sub-alice"))
    assert int(client.session["_auth_user_id"]) == alice.pk
    assert Membership.objects.get(org=acme.org, user=alice).role == Role.ADMIN  # no mapping: kept


def test_another_orgs_idp_cannot_sign_in_as_an_account_that_is_not_its_member(client, acme, org_a):
    # The victim has an account (in Acme's domain, a member of another org only); Acme's IdP
    # asserts her email: no link, no sign-in, no membership.
    victim = make_user("victim@acme.test", "a-strong-password-1")
    Membership.objects.create(org=org_a.org, user=victim, role=Role.OWNER)
    asserted = {"victim-at-idp": {"email": "victim@acme.test", "email_verified": True}}
    with running_idp(redirect_uris=[callback_uri(acme.org)], accounts=asserted) as idp:
        configure(acme, idp)
        response = finish(client, idp.sign_in(start(client, "victim@acme.test"), "victim-at-idp"))
    assert response.status_code == 403
    assert "is not a member of Acme" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not SocialAccount.objects.exists()
    assert not Membership.objects.filter(org=acme.org, user=victim).exists()


@pytest.mark.parametrize(
    ("claims", "says"),
    [
        ({"email": "mallory@acme.test", "email_verified": False}, "has not verified mallory@acme.test"),
        ({"email": "mallory@elsewhere.test", "email_verified": True}, "is not in the domains"),
        ({"email_verified": True}, "did not tell this dashboard your email"),
    ],
)
def test_a_subject_without_a_verified_email_in_the_domains_is_refused(client, acme, claims, says):
    with running_idp(redirect_uris=[callback_uri(acme.org)], accounts={"sub-m": claims}) as idp:
        configure(acme, idp)
        response = finish(client, idp.sign_in(start(client, "mallory@acme.test"), "sub-m"))
    assert response.status_code == 403 and says in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not SocialAccount.objects.exists()


def test_an_idp_that_returns_an_error_is_a_page_that_says_so(client, acme):
    with running_idp(redirect_uris=[callback_uri(acme.org)], accounts={"sub-alice": ALICE}) as idp:
        configure(acme, idp)
        back = idp.cancel(start(client, "alice@acme.test"))
        assert "error=access_denied" in back
        response = finish(client, back)
    page = response.content.decode()
    assert response.status_code == 401
    assert "Acme&#x27;s identity provider did not sign you in" in page and "aborted" in page
    assert "_auth_user_id" not in client.session


def test_a_tampered_id_token_is_refused(client, acme):
    # The token endpoint's answer is altered on the way (another subject, another email, the
    # original signature). allauth alone skips the signature for a token fetched directly.
    with running_idp(
        redirect_uris=[callback_uri(acme.org)], accounts={"sub-alice": ALICE}, tamper=True
    ) as idp:
        configure(acme, idp)
        response = finish(client, idp.sign_in(start(client, "alice@acme.test"), "sub-alice"))
    assert response.status_code == 401
    assert "did not sign you in" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not SocialAccount.objects.exists()


def test_a_replayed_callback_signs_nobody_in(client, acme):
    with running_idp(redirect_uris=[callback_uri(acme.org)], accounts={"sub-alice": ALICE}) as idp:
        configure(acme, idp)
        back = idp.sign_in(start(client, "alice@acme.test"), "sub-alice")
        assert finish(client, back).status_code == 302
        client.logout()
        replay = finish(client, back)  # the state was used up with the first answer
    assert replay.status_code in (400, 401)
    assert "_auth_user_id" not in client.session


def test_a_new_issuer_does_not_inherit_the_old_ones_subjects(client, acme):
    with running_idp(redirect_uris=[callback_uri(acme.org)], accounts={"sub-alice": ALICE}) as idp:
        configure(acme, idp)
        finish(client, idp.sign_in(start(client, "alice@acme.test"), "sub-alice"))
    assert SocialAccount.objects.count() == 1
    with running_idp(redirect_uris=[callback_uri(acme.org)], accounts={}) as other:
        configure(acme, other)
    assert not SocialAccount.objects.exists()
    event = AuditEvent.objects.filter(org=acme.org, action=Action.ORG_SSO_CONFIGURED).order_by("-seq").first()
    assert event.details["after"]["unbound_accounts"] == 1


def test_a_domain_that_forbids_passwords_goes_to_the_idp_and_its_pages_need_an_sso_session(client, acme):
    alice = make_user("alice@acme.test", "a-strong-password-1")
    Membership.objects.create(org=acme.org, user=alice, role=Role.ADMIN)
    overview = reverse("detection:overview", kwargs={"org_id": acme.org.id})
    with running_idp(redirect_uris=[callback_uri(acme.org)], accounts={"sub-alice": ALICE}) as idp:
        configure(acme, idp)
        SsoConfig.objects.filter(org=acme.org).update(password_sign_in=False)  # (orgs/tests: how)
        # The sign-in form sends the email to the IdP; the password is not even checked.
        response = client.post(reverse("account_login"), {"login": "alice@acme.test", "password": "wrong"})
        assert continue_url(response).startswith(idp.issuer)
        # A password session (the escape hatch, or from before the ban) does not open the org.
        client.post(
            reverse("account_login") + "?password=1",
            {"login": "alice@acme.test", "password": "a-strong-password-1"},
        )
        assert "_auth_user_id" in client.session
        page = client.get(overview)
        assert page.status_code == 403 and "does not accept password sign-in" in page.content.decode()
        assert client.get(overview, HTTP_HX_REQUEST="true").status_code == 403
        # Through the IdP, it opens.
        finish(client, idp.sign_in(start(client, "alice@acme.test"), "sub-alice"))
        assert client.get(overview).status_code == 200
    # Her other orgs do not care how she signed in.


def test_the_sso_step_names_no_org_for_an_unknown_domain_and_checks_its_input(client, acme):
    response = client.post(reverse("accounts:sso_start"), {"email": "someone@unknown.test"})
    assert response.status_code == 400
    assert "No organization signs in unknown.test through single sign-on" in response.content.decode()
    assert client.post(reverse("accounts:sso_start"), {"email": "not an email"}).status_code == 400
    assert client.get(reverse("accounts:sso_start")).status_code == 200


def test_no_provider_is_listed_or_reachable_by_guessing(client, acme):
    # No configuration: the provider's login URL is a 404, as for any made-up one.
    for provider in (provider_id_of(acme.org.id), "sso-org_aaaaaaaaaaaa", "openid_connect"):
        assert (
            client.post(reverse("openid_connect_login", kwargs={"provider_id": provider})).status_code == 404
        )


def test_an_account_without_a_password_confirms_sensitive_actions_through_its_idp(client, acme):
    """Sudo mode for an account the IdP created: the IdP must authenticate the person again
    (prompt=login, max_age=0), judged by the auth_time it signed."""
    settings_url = reverse("detection:settings", kwargs={"org_id": acme.org.id})
    with running_idp(redirect_uris=[callback_uri(acme.org)], accounts={"sub-alice": ALICE}) as idp:
        configure(acme, idp, group_roles={"mqtt-admins": Role.ADMIN})
        finish(client, idp.sign_in(start(client, "alice@acme.test"), "sub-alice"))
        assert client.post(settings_url, {}).status_code != 302  # just signed in: no question
        # Ten minutes later (the record and the IdP's auth_time both age).
        session = client.session
        for record in session["account_authentication_methods"]:
            record["at"] -= 600
        session.save()
        account = SocialAccount.objects.get(uid="sub-alice")
        account.extra_data["id_token"]["auth_time"] -= 600
        account.save()
        asked = client.post(settings_url, {}, HTTP_REFERER="http://testserver" + settings_url)
        assert asked.status_code == 302 and asked["Location"].startswith("/accounts/sso/reauthenticate/")
        again = continue_url(client.get(asked["Location"]))
        assert "prompt=login" in again and "max_age=0" in again
        finish(client, idp.sign_in(again, "sub-alice"))
        assert client.post(settings_url, {}).status_code != 302


@pytest.mark.parametrize(
    ("next_url", "kept"),
    [
        ("/o/org_aaaaaaaaaaaa/users/", True),
        ("/\\evil.example/", False),
        ("//evil.example/", False),
        ("https://evil.example/", False),
        ("javascript:alert(1)", False),
    ],
)
def test_where_sso_returns_to_is_a_path_of_this_dashboard(rf, next_url, kept):
    from accounts.sso_views import safe_next

    request = rf.post("/accounts/sso/", {"next": next_url})
    assert safe_next(request) == (next_url if kept else None)
