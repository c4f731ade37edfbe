"""Second factors: an authenticator app (TOTP, RFC 6238) with recovery codes; an org that
requires them; sensitive actions that ask again ("sudo mode"); every factor change audited."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
import time

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from conftest import PASSWORD, make_user

# allauth signals factor changes (and sends their mails) once they commit: these tests commit.
pytestmark = pytest.mark.django_db(transaction=True)


def totp(secret: str, at: float | None = None) -> str:
    """RFC 6238 with the RFC's defaults (SHA-1, 30 s, 6 digits), written out here so the test
    checks the dashboard against the standard, not against its own library."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int((at or time.time()) // 30)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return f"{(struct.unpack('>I', mac[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def _secret_of(page: str) -> str:
    return re.search(r"\b([A-Z2-7]{32})\b", page)[1]


def enrol(client: Client) -> tuple[str, list[str]]:
    """Add an authenticator app through the pages; returns its secret and the recovery codes."""
    page = client.get(reverse("mfa_activate_totp")).content.decode()
    secret = _secret_of(page)
    response = client.post(reverse("mfa_activate_totp"), {"code": totp(secret)})
    assert response.status_code == 302, response.content.decode()[:500]
    codes_page = client.get(reverse("mfa_view_recovery_codes")).content.decode()
    return secret, re.findall(r"\b(\d{8})\b", codes_page)


def _sign_in(client, email, password=PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


@pytest.fixture
def person(org_a):
    user = org_a.admin
    user.set_password(PASSWORD)
    user.save()
    return user


def test_enrol_then_sign_in_needs_the_code_and_a_recovery_code_works_once(person, org_a):
    client = Client()
    _sign_in(client, person.email)
    secret, codes = enrol(client)
    assert len(codes) >= 8
    added = AuditEvent.objects.filter(org=org_a.org, action="account.factor_added")
    assert {e.details["factor"] for e in added} >= {"authenticator app"}
    client.post(reverse("account_logout"))

    step = _sign_in(client, person.email)
    assert step["Location"] == reverse("mfa_authenticate") and "_auth_user_id" not in client.session
    wrong = client.post(
        reverse("mfa_authenticate"), {"code": "000000" if totp(secret) != "000000" else "111111"}
    )
    assert wrong.status_code == 200 and "_auth_user_id" not in client.session
    client.post(reverse("mfa_authenticate"), {"code": totp(secret)})
    assert "_auth_user_id" in client.session
    client.post(reverse("account_logout"))

    # The phone is lost: a recovery code signs in, once.
    _sign_in(client, person.email)
    client.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert "_auth_user_id" in client.session
    client.post(reverse("account_logout"))
    _sign_in(client, person.email)
    client.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert "_auth_user_id" not in client.session


def test_an_org_that_requires_mfa_sends_members_without_one_to_enrol(person, org_a):
    org_a.org.require_mfa = True
    org_a.org.save()
    client = Client()
    _sign_in(client, person.email)
    overview = reverse("detection:overview", kwargs={"org_id": org_a.org.id})
    response = client.get(overview)
    assert response.status_code == 302 and response["Location"] == reverse("mfa_index")
    assert "asks every member for a second factor" in client.get(response["Location"]).content.decode()
    fragment = client.get(reverse("users:list", kwargs={"org_id": org_a.org.id}), HTTP_HX_REQUEST="true")
    assert fragment.status_code == 403 and "data-error" in fragment.content.decode()
    enrol(client)
    assert client.get(overview).status_code == 200


def test_only_an_owner_turns_the_requirement_on_and_it_is_audited(org_a, client_for):
    url = reverse("orgs:settings", kwargs={"org_id": org_a.org.id})
    form = {
        "name": org_a.org.name,
        "max_mqtt_users": 100,
        "max_connections": 1000,
        "token_ttl_default": 3600,
        "token_ttl_max": 86400,
        "audit_retention_days": 365,
        "require_mfa": "on",
    }
    assert client_for(org_a.admin).post(url, form).status_code == 403
    client_for(org_a.owner).post(url, form)
    org_a.org.refresh_from_db()
    assert org_a.org.require_mfa
    event = AuditEvent.objects.filter(action="org.updated").latest("seq")
    assert event.details["after"] == {"require_mfa": True}


def test_a_sensitive_action_asks_for_the_password_again_then_carries_on(person, org_a):
    """A session signed in long ago (or stolen) cannot rotate a secret without the password."""
    client = Client()
    client.force_login(person)  # no recent authentication in this session
    user = org_a.mqtt_user
    rotate = reverse("users:rotate", kwargs={"org_id": org_a.org.id, "name": user.name})
    before = type(user).objects.get(pk=user.pk).secret_digest
    asked = client.post(rotate, {"grace_seconds": "0"})
    assert asked.status_code == 302 and asked["Location"].startswith(reverse("account_reauthenticate"))
    assert type(user).objects.get(pk=user.pk).secret_digest == before
    wrong = client.post(asked["Location"], {"password": "not-it-at-all"})
    assert wrong.status_code == 200 and type(user).objects.get(pk=user.pk).secret_digest == before
    user_page = reverse("users:detail", kwargs={"org_id": org_a.org.id, "name": user.name})
    asked = client.post(rotate, {"grace_seconds": "0"}, HTTP_REFERER=f"http://testserver{user_page}")
    confirmed = client.post(asked["Location"], {"password": PASSWORD})
    assert confirmed["Location"] == user_page  # back where the admin was; nothing replayed
    assert type(user).objects.get(pk=user.pk).secret_digest == before
    done = client.post(rotate, {"grace_seconds": "0"})
    assert done.status_code == 200 and 'data-testid="secret"' in done.content.decode()
    assert type(user).objects.get(pk=user.pk).secret_digest != before


def test_the_way_back_after_confirming_stays_in_the_org(person, org_a):
    client = Client()
    client.force_login(person)
    rotate = reverse("users:rotate", kwargs={"org_id": org_a.org.id, "name": org_a.mqtt_user.name})
    for referer in ("https://evil.example/o/x/", f"http://testserver//evil.example/o/{org_a.org.id}/", ""):
        asked = client.post(rotate, {"grace_seconds": "0"}, HTTP_REFERER=referer)
        assert asked["Location"].endswith("?next=" + f"%2Fo%2F{org_a.org.id}%2F")


def test_htmx_is_sent_to_the_reauthentication_page_not_given_it_as_a_fragment(person, org_a):
    client = Client()
    client.force_login(person)
    user = org_a.mqtt_user
    rotate = reverse("users:rotate", kwargs={"org_id": org_a.org.id, "name": user.name})
    response = client.post(rotate, {"grace_seconds": "0"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response["HX-Redirect"].startswith(
        reverse("account_reauthenticate")
    )
    assert response.content == b""


def test_removing_a_factor_is_audited_and_needs_a_fresh_sign_in(person, org_a):
    from allauth.mfa.models import Authenticator

    client = Client()
    _sign_in(client, person.email)
    secret, _ = enrol(client)
    totp_id = Authenticator.objects.get(user=person, type="totp").pk
    client.post(reverse("mfa_deactivate_totp"), {"code": totp(secret)})
    assert not Authenticator.objects.filter(pk=totp_id).exists()
    assert AuditEvent.objects.filter(org=org_a.org, action="account.factor_removed").exists()


def test_an_account_without_a_membership_changes_factors_without_audit_errors(db):
    loner = make_user("loner@example.com", PASSWORD)
    client = Client()
    _sign_in(client, loner.email)
    enrol(client)
    assert not AuditEvent.objects.filter(action__startswith="account.").exists()
