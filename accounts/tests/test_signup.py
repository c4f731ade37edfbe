from __future__ import annotations

from django.urls import reverse

from accounts.models import User
from audit.models import AuditEvent
from conftest import make_user
from orgs.models import Membership, Organization, Role

URL = reverse("accounts:signup")
GOOD = {"email": "Founder@Example.com", "password": "a-long-enough-pass-7", "org_name": "Initech"}


def _nothing_saved():
    assert not Organization.objects.exists()
    assert not AuditEvent.objects.exists()


def test_signup_creates_the_account_its_org_and_signs_in(client, db):
    response = client.post(URL, GOOD)
    user = User.objects.get()
    org = Organization.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("detection:overview", kwargs={"org_id": org.id})
    assert user.email == "founder@example.com"
    assert user.password.startswith("argon2$")
    assert Membership.objects.get(org=org, user=user).role == Role.OWNER
    assert set(AuditEvent.objects.values_list("action", flat=True)) == {"org.created", "member.added"}
    assert client.get(response["Location"]).status_code == 200


def test_a_taken_email_is_refused(client, db):
    make_user("founder@example.com")
    response = client.post(URL, GOOD)
    assert "An account with this email already exists" in response.content.decode()
    _nothing_saved()


def test_a_weak_password_is_refused(client, db):
    for weak in ("short", "1234567890123", "password123"):
        response = client.post(URL, {**GOOD, "password": weak})
        assert response.status_code == 200
        assert 'id="id_password"' in response.content.decode()
        assert "aria-invalid" in response.content.decode()
    assert not User.objects.exists()
    _nothing_saved()


def test_an_empty_org_name_is_refused(client, db):
    response = client.post(URL, {**GOOD, "org_name": "   "})
    assert "This field is required." in response.content.decode()
    assert not User.objects.exists()
    _nothing_saved()


def test_signup_can_be_turned_off(client, db, settings):
    settings.SIGNUP_ENABLED = False
    assert client.get(URL).status_code == 404
    assert client.post(URL, GOOD).status_code == 404
    assert "Create an account" not in client.get(reverse("accounts:login")).content.decode()
    assert not User.objects.exists()
