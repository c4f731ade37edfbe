"""Sign-up: the email is verified before the account can do anything; the first org is
created then; no answer says whether an email already has an account."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from audit.models import AuditEvent
from conftest import PASSWORD, make_user
from orgs.models import Membership, Organization, Role

URL = reverse("account_signup")
GOOD = {"email": "Founder@Example.com", "password1": "a-long-enough-pass-7", "org_name": "Initech"}


def _link(message) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", message.body)[1]


def test_signup_verifies_the_email_before_the_account_or_its_org_exists_for_use(client, db):
    response = client.post(URL, GOOD)
    assert response.status_code == 302 and response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get()
    assert user.email == "founder@example.com" and user.password.startswith("argon2$")
    assert not Organization.objects.exists()  # nothing until the email is the person's
    assert "_auth_user_id" not in client.session
    # Signing in before confirming is refused with the same page.
    refused = client.post(reverse("account_login"), {"login": GOOD["email"], "password": GOOD["password1"]})
    assert refused.status_code == 302 and refused["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session
    (message,) = [m for m in mail.outbox if m.to == ["founder@example.com"]][:1]
    link = _link(message)
    assert client.get(link).status_code == 200  # a mail scanner opening it confirms nothing
    assert not Organization.objects.exists()
    done = client.post(link)
    org = Organization.objects.get()
    assert org.name == "Initech" and Membership.objects.get(org=org, user=user).role == Role.OWNER
    assert "_auth_user_id" in client.session
    assert client.get(reverse("home"))["Location"] == reverse("detection:overview", kwargs={"org_id": org.id})
    assert done.status_code == 302
    assert set(AuditEvent.objects.values_list("action", flat=True)) == {"org.created", "member.added"}


def test_a_taken_email_gets_the_same_answer_and_its_owner_a_mail(client, db):
    """Sign-up must not tell a stranger which emails have accounts."""
    fresh = client.post(URL, {**GOOD, "email": "new@example.com"})
    make_user("founder@example.com", PASSWORD)
    mail.outbox.clear()
    taken = client.post(URL, GOOD)
    assert (taken.status_code, taken["Location"]) == (fresh.status_code, fresh["Location"])
    assert User.objects.filter(email="founder@example.com").count() == 1
    (message,) = mail.outbox
    assert message.to == ["founder@example.com"] and "already" in message.body.lower()
    assert not Organization.objects.filter(name="Initech").exists()


def test_a_weak_password_is_refused_in_place(client, db):
    for weak in ("short", "1234567890123", "password123"):
        response = client.post(URL, {**GOOD, "password1": weak})
        assert response.status_code == 200
        html = response.content.decode()
        assert 'id="id_password1"' in html and 'aria-invalid="true"' in html
    assert not User.objects.exists() and not mail.outbox


@pytest.mark.parametrize("email", ["not-an-email", "a@b\x07c.com", ""])
def test_a_bad_email_is_refused_in_place(client, db, email):
    response = client.post(URL, {**GOOD, "email": email})
    assert response.status_code in (200, 400) and not User.objects.exists()


def test_sign_ups_from_one_address_are_limited(client, db, settings):
    """15 sign-ups in 5 seconds from one address: the limit stops them."""
    from allauth.core import ratelimit

    accepted = 0
    for n in range(15):
        response = client.post(URL, {**GOOD, "email": f"p{n}@example.com"})
        accepted += response.status_code == 302
    assert accepted <= 5 and User.objects.count() == accepted
    assert ratelimit is not None


def test_signup_can_be_turned_off(client, db, settings):
    settings.SIGNUP_ENABLED = False
    closed = client.post(URL, GOOD)
    assert "closed" in closed.content.decode().lower() or closed.status_code == 404
    assert "Create an account" not in client.get(reverse("account_login")).content.decode()
    assert not User.objects.exists()
