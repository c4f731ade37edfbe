"""Sudo mode across the org URLs: exactly the sensitive actions ask for a recent
authentication, whatever the role that may perform them."""

from __future__ import annotations

from django.test import Client
from django.urls import resolve, reverse

from .isolation import ORG_URL_CASES

SENSITIVE = {
    "users:rotate",  # a new secret
    "users:delete",
    "users:bulk",  # disable or delete many
    "tokens:mint",  # a token minted from the page
    "orgs:settings",  # quotas and the MFA requirement
    "orgs:members",  # invitations
    "orgs:member_role",
    "orgs:member_remove",
    "orgs:api_key_create",
    "orgs:sso",  # single sign-on: who may sign in, and how
    "orgs:sso_remove",
    "detection:settings",  # detection and the webhook
    "acls:rule_set_delete",
}


def test_exactly_the_sensitive_views_are_guarded(org_a):
    guarded = set()
    for name, kwargs in ORG_URL_CASES.items():
        url = reverse(name, kwargs={"org_id": org_a.org.id, **kwargs(org_a)})
        if getattr(resolve(url).func, "sensitive", False):
            guarded.add(name)
    assert guarded == SENSITIVE


def test_a_session_without_a_recent_sign_in_is_asked_first_for_each(org_a):
    """Someone at an unlocked laptop (or with a stolen session cookie) cannot rotate,
    mint, invite or delete without the password."""
    client = Client()
    client.force_login(org_a.owner)  # signed in, but not recently
    for name in sorted(SENSITIVE):
        url = reverse(name, kwargs={"org_id": org_a.org.id, **ORG_URL_CASES[name](org_a)})
        response = client.post(url, {})
        assert response.status_code == 302, name
        assert response["Location"].startswith("/accounts/reauthenticate/"), name
