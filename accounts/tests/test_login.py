from __future__ import annotations

import pytest
from django.urls import reverse

from conftest import PASSWORD, make_user

LOGIN = reverse("account_login")


@pytest.fixture
def person(db):
    return make_user("person@example.com", PASSWORD)


@pytest.fixture(autouse=True)
def fresh_limits(settings):
    """The wider sign-in limits live in Redis: each test starts with none counted."""
    from core import ratelimit

    ratelimit._limiter(settings.REDIS_URL or "memory://").storage.reset()


def _fail(client, username="person@example.com", **meta):
    return client.post(LOGIN, {"login": username, "password": "guess-guess-guess"}, **meta)


def _sign_in(client, username="person@example.com", **meta):
    return client.post(LOGIN, {"login": username, "password": PASSWORD}, **meta)


def test_sign_in_with_email_and_password(client, person):
    response = client.post(LOGIN, {"login": "Person@Example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302  # on to their orgs


def test_a_wrong_password_is_explained(client, person):
    response = client.post(LOGIN, {"login": "person@example.com", "password": "nope-nope-nope"})
    assert response.status_code == 200
    assert "The email address and/or password you specified are not correct." in response.content.decode()


def test_repeated_failures_lock_out_even_the_right_password(client, person, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(LOGIN, {"login": "person@example.com", "password": "guess-guess-guess"})
    response = client.post(LOGIN, {"login": "person@example.com", "password": PASSWORD})
    assert response.status_code == 429
    body = response.content.decode()
    assert "Too many failed sign-ins" in body and "Try again in 15 minutes" in body
    assert "manage.py" not in body  # an operator's command is no advice for the person signing in
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("variant", ["PERSON@example.com", " person@example.com ", "Person@EXAMPLE.COM"])
def test_changing_the_case_or_spacing_of_the_email_gets_no_fresh_tries(client, person, settings, variant):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _fail(client)
    assert _sign_in(client, variant).status_code == 429
    assert "_auth_user_id" not in client.session


def test_without_a_trusted_proxy_a_forged_forwarded_for_gets_no_fresh_tries(client, person, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        _fail(client, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    assert _sign_in(client, HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429


def test_behind_a_proxy_the_client_address_is_counted_not_the_proxys(client, person, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        # What the client wrote to the left is ignored: the proxy appended the real address.
        _fail(client, HTTP_X_FORWARDED_FOR="192.0.2.1, 203.0.113.5", **proxy)
    assert _sign_in(client, HTTP_X_FORWARDED_FOR="203.0.113.5", **proxy).status_code == 429
    # The same proxy, another client: not locked out by the guesser.
    assert _sign_in(client, HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy).status_code == 302


def test_one_address_spraying_many_accounts_is_stopped(client, person, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = "3/hour"
    for n in range(3):
        _fail(client, f"someone-{n}@example.com")
    refused = _sign_in(client)
    assert refused.status_code == 429 and "_auth_user_id" not in client.session
    assert _sign_in(client, REMOTE_ADDR="203.0.113.9").status_code == 302  # another address


def test_one_account_guessed_from_many_addresses_is_stopped(client, person, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = "3/hour"
    for n in range(3):
        _fail(client, "Person@Example.com", REMOTE_ADDR=f"198.51.100.{n}")
    assert _sign_in(client, REMOTE_ADDR="203.0.113.9").status_code == 429
    make_user("other@example.com", PASSWORD)
    assert _sign_in(client, "other@example.com", REMOTE_ADDR="203.0.113.9").status_code == 302


def test_sign_out_is_a_post(client, person):
    client.force_login(person, backend="django.contrib.auth.backends.ModelBackend")
    page = client.get(reverse("account_logout"))  # a page that asks; a link cannot sign out
    assert page.status_code == 200 and "_auth_user_id" in client.session
    assert client.post(reverse("account_logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_password_change_checks_the_old_password_and_the_new_ones_strength(client, person):
    client.force_login(person, backend="django.contrib.auth.backends.ModelBackend")
    url = reverse("account_change_password")
    new = "another-good-pass-8"
    wrong = client.post(url, {"oldpassword": "x", "password1": new, "password2": new})
    assert "Please type your current password." in wrong.content.decode()
    weak = client.post(url, {"oldpassword": PASSWORD, "password1": "123", "password2": "123"})
    assert weak.status_code == 200 and 'aria-invalid="true"' in weak.content.decode()
    ok = client.post(url, {"oldpassword": PASSWORD, "password1": new, "password2": new})
    assert ok.status_code == 302
    person.refresh_from_db()
    assert person.check_password(new)
    assert "_auth_user_id" in client.session  # still signed in on this device


def test_home_sends_a_member_to_their_first_org_and_others_to_create_one(client, org_a):
    client.force_login(org_a.admin, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(reverse("home"))["Location"] == reverse(
        "detection:overview", kwargs={"org_id": org_a.org.id}
    )
    loner = make_user("loner@example.com")
    client.force_login(loner, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(reverse("home"))["Location"] == reverse("org_create")


def test_sign_in_lands_in_the_org_used_last_not_the_first_by_name(client, person):
    """An org named to sort first (anyone's choice) must not catch a member's sign-in."""
    from orgs.models import Membership, Role
    from orgs.services import org_create

    used = org_create(name="Zebra works", owner=person)
    bait = org_create(name="AAA urgent", owner=make_user("someone@example.com"))
    Membership.objects.create(org=bait, user=person, role=Role.ADMIN)
    _sign_in(client)
    client.get(reverse("detection:overview", kwargs={"org_id": used.id}))
    client.post(reverse("account_logout"))
    landed = client.get(_sign_in(client)["Location"])
    assert landed["Location"] == reverse("detection:overview", kwargs={"org_id": used.id})
