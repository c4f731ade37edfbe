"""An owner configures the org's single sign-on: what is refused (someone else's or a public
domain, an issuer on the dashboard's network, one that is not an OpenID provider), and the
client secret kept sealed, never shown again, never audited."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from audit.models import Action, AuditEvent
from orgs import sso
from orgs.models import Role, SsoConfig, SsoDomain
from tests.oidc_idp import running_idp

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def idp(idp_on_loopback):
    with running_idp(redirect_uris=["http://testserver/cb"], accounts={}) as running:
        yield running


def prove(user, *domains):
    for domain in domains:
        EmailAddress.objects.create(user=user, email=f"{user.pk}@{domain}", verified=True)


def form(idp, **overrides):
    return {
        "issuer": idp.issuer,
        "client_id": idp.client_id,
        "client_secret": idp.client_secret,
        "domains": "acme.test",
        "default_role": "auditor",
        "groups_claim": "groups",
        "password_sign_in": "on",
        "enabled": "on",
        **overrides,
    }


def url(world, name="orgs:sso"):
    return reverse(name, kwargs={"org_id": world.org.id})


def test_an_owner_turns_it_on_and_the_secret_is_sealed_and_never_shown_again(org_a, client_for, idp):
    prove(org_a.owner, "acme.test", "acme.example.org")
    client = client_for(org_a.owner)
    response = client.post(
        url(org_a), form(idp, domains="acme.test, ACME.example.org.", group_roles="ops = admin")
    )
    assert response.status_code == 302
    config = SsoConfig.objects.get(org=org_a.org)
    assert set(config.domains.values_list("domain", flat=True)) == {"acme.test", "acme.example.org"}
    assert config.group_roles == {"ops": "admin"}
    assert (
        idp.client_secret not in config.client_secret_sealed
        and sso.client_secret(config) == idp.client_secret
    )
    page = client.get(url(org_a)).content.decode()
    assert idp.client_secret not in page
    assert f"/accounts/oidc/sso-{org_a.org.id}/login/callback/" in page  # what to register at the IdP
    event = AuditEvent.objects.get(org=org_a.org, action=Action.ORG_SSO_CONFIGURED)
    assert (
        idp.client_secret not in str(event.details)
        and event.details["after"]["client_secret"] == "[redacted]"
    )
    # Saving again without a secret keeps the stored one.
    assert client.post(url(org_a), form(idp, client_secret="", domains="acme.test")).status_code == 302
    assert sso.client_secret(SsoConfig.objects.get(org=org_a.org)) == idp.client_secret


@pytest.mark.parametrize(
    ("overrides", "field", "says"),
    [
        ({"domains": "gmail.com"}, "domains", "public mail provider"),
        ({"domains": "globex.test"}, "domains", "Add and verify an email address at globex.test"),
        ({"domains": "not a domain!"}, "domains", "is not a domain name"),
        ({"domains": " , "}, "domains", "at least one email domain"),
        ({"default_role": "owner"}, "default_role", "Select a valid choice"),
        ({"group_roles": "ops = owner"}, "group_roles", "not a role single sign-on gives"),
        ({"group_roles": "just a group"}, "group_roles", "Line 1"),
        ({"client_secret": ""}, "client_secret", "Enter the client secret"),
        ({"groups_claim": "groups claim!"}, "groups_claim", "letters, digits"),
        ({"issuer": "ftp://idp.test"}, "issuer", "Use an http:// or https:// URL"),
        ({"issuer": "not a url"}, "issuer", "Enter a valid URL"),
    ],
)
def test_bad_settings_are_refused_with_a_word_and_nothing_is_saved(
    org_a, client_for, idp, overrides, field, says
):
    prove(org_a.owner, "acme.test")
    response = client_for(org_a.owner).post(url(org_a), form(idp, **overrides))
    assert response.status_code == 400
    assert says in response.content.decode().replace("&#x27;", "'")
    assert not SsoConfig.objects.exists() and not SsoDomain.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.ORG_SSO_CONFIGURED).exists()


def test_a_domain_belongs_to_one_org(org_a, org_b, client_for, idp):
    prove(org_a.owner, "acme.test")
    prove(org_b.owner, "acme.test")  # Globex's owner also has an address there
    assert client_for(org_a.owner).post(url(org_a), form(idp)).status_code == 302
    client = client_for(org_b.owner)
    response = client.post(url(org_b), form(idp))
    assert (
        response.status_code == 400 and "already covered by another organization" in response.content.decode()
    )
    assert SsoDomain.objects.get(domain="acme.test").config.org == org_a.org


def test_an_issuer_on_the_dashboards_own_network_is_refused(org_a, client_for, settings):
    # Without the loopback allowance of the tests: the dashboard does not fetch its network.
    settings.EGRESS_ALLOWED_NETWORKS = []
    settings.EGRESS_HTTPS_ONLY = False
    prove(org_a.owner, "acme.test")
    for issuer in ("http://127.0.0.1:9/", "http://169.254.169.254/latest", "http://10.0.0.8"):
        values = {
            "issuer": issuer,
            "client_id": "c",
            "client_secret": "s",
            "domains": "acme.test",
            "password_sign_in": "on",
        }
        response = client_for(org_a.owner).post(
            url(org_a), {**values, "default_role": "auditor", "groups_claim": "g"}
        )
        assert response.status_code == 400, issuer
        assert "the dashboard only connects to public addresses" in response.content.decode(), issuer
    assert not SsoConfig.objects.exists()


def test_an_issuer_that_is_not_an_openid_provider_is_refused(org_a, client_for, idp_on_loopback, live_server):
    prove(org_a.owner, "acme.test")
    client = client_for(org_a.owner)
    # A web server answers there, but with no discovery document: a 404.
    values = {
        "client_id": "c",
        "client_secret": "s",
        "domains": "acme.test",
        "default_role": "auditor",
        "password_sign_in": "on",
    }
    web = live_server.url.replace("localhost", "127.0.0.1")
    response = client.post(url(org_a), {**values, "groups_claim": "groups", "issuer": web})
    assert response.status_code == 400 and "HTTP 404" in response.content.decode()
    response = client.post(
        url(org_a), {**values, "groups_claim": "groups", "issuer": "http://localhost:8000"}
    )
    assert response.status_code == 400 and "is this dashboard" in response.content.decode()
    response = client.post(url(org_a), {**values, "groups_claim": "groups", "issuer": "http://127.0.0.1:1"})
    assert response.status_code == 400 and "could not connect" in response.content.decode()


def test_a_discovery_document_for_another_issuer_is_refused(org_a, client_for, idp_on_loopback):
    prove(org_a.owner, "acme.test")
    with running_idp(
        redirect_uris=["http://testserver/cb"], accounts={}, issuer="https://idp.other.test"
    ) as idp:
        response = client_for(org_a.owner).post(url(org_a), form(idp))
    assert response.status_code == 400
    assert "describes the issuer" in response.content.decode().replace("&#x27;", "'")


def test_only_owners_change_it_and_admins_and_auditors_see_it_read_only(org_a, client_for, idp):
    prove(org_a.owner, "acme.test")
    for role in ("admin", "auditor"):
        client = client_for(org_a.member(role))
        assert client.get(url(org_a)).status_code == 200
        assert client.post(url(org_a), form(idp)).status_code == 403
        assert client.post(url(org_a, "orgs:sso_remove")).status_code == 403
    assert not SsoConfig.objects.exists()


def test_removing_it_drops_the_domains_and_the_bindings(org_a, client_for, idp):
    from allauth.socialaccount.models import SocialAccount

    prove(org_a.owner, "acme.test")
    client = client_for(org_a.owner)
    client.post(url(org_a), form(idp))
    config = SsoConfig.objects.get(org=org_a.org)
    SocialAccount.objects.create(user=org_a.admin, provider=config.provider_id, uid="sub-admin")
    assert client.post(url(org_a, "orgs:sso_remove")).status_code == 302
    assert (
        not SsoConfig.objects.exists()
        and not SsoDomain.objects.exists()
        and not SocialAccount.objects.exists()
    )
    assert AuditEvent.objects.filter(org=org_a.org, action=Action.ORG_SSO_REMOVED).count() == 1
    assert Role.ADMIN == org_a.membership(org_a.admin).role  # members stay


def test_passwords_are_forbidden_only_by_an_owner_who_signed_in_through_it(org_a, client_for, idp):
    """No owner locks the org out with a provider that does not work for them."""
    prove(org_a.owner, "acme.test")
    client = client_for(org_a.owner)
    banned = form(idp)
    del banned["password_sign_in"]
    response = client.post(url(org_a), banned)  # at creation
    assert response.status_code == 400 and "Sign in through single sign-on first" in response.content.decode()
    assert not SsoConfig.objects.exists()
    assert client.post(url(org_a), form(idp)).status_code == 302
    response = client.post(url(org_a), banned)  # a password session
    assert response.status_code == 400 and SsoConfig.objects.get().password_sign_in
    # After a sign-in through it (as allauth records one), the owner may.
    from allauth.account.internal.flows.login import record_authentication
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.session, request.user = client.session, org_a.owner
    record_authentication(request, org_a.owner, "socialaccount", provider=f"sso-{org_a.org.id}", uid="boss")
    request.session.save()
    assert client.post(url(org_a), banned).status_code == 302
    assert not SsoConfig.objects.get().password_sign_in
