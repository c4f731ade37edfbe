from __future__ import annotations

import pytest
from django.urls import reverse

from conftest import PASSWORD, make_user

LOGIN = reverse("accounts:login")


@pytest.fixture
def person(db):
    return make_user("person@example.com", PASSWORD)


def test_sign_in_with_email_and_password(client, person):
    response = client.post(LOGIN, {"username": "Person@Example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302  # on to their orgs


def test_a_wrong_password_is_explained(client, person):
    response = client.post(LOGIN, {"username": "person@example.com", "password": "nope-nope-nope"})
    assert response.status_code == 200
    assert "Please enter a correct email address and password" in response.content.decode()


def test_repeated_failures_lock_out_even_the_right_password(client, person, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(LOGIN, {"username": "person@example.com", "password": "guess-guess-guess"})
    response = client.post(LOGIN, {"username": "person@example.com", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_out_is_a_post(client, person):
    client.force_login(person, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_password_change_checks_the_old_password_and_the_new_ones_strength(client, person):
    client.force_login(person, backend="django.contrib.auth.backends.ModelBackend")
    url = reverse("accounts:password_change")
    wrong = client.post(
        url,
        {"old_password": "x", "new_password1": "another-good-pass-8", "new_password2": "another-good-pass-8"},
    )
    assert "Your old password was entered incorrectly" in wrong.content.decode()
    weak = client.post(url, {"old_password": PASSWORD, "new_password1": "123", "new_password2": "123"})
    assert weak.status_code == 200
    ok = client.post(
        url,
        {
            "old_password": PASSWORD,
            "new_password1": "another-good-pass-8",
            "new_password2": "another-good-pass-8",
        },
    )
    assert ok.status_code == 302
    person.refresh_from_db()
    assert person.check_password("another-good-pass-8")
    assert "_auth_user_id" in client.session  # still signed in on this device


def test_home_sends_a_member_to_their_first_org_and_others_to_create_one(client, org_a):
    client.force_login(org_a.admin, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(reverse("home"))["Location"] == reverse(
        "orgs:overview", kwargs={"org_id": org_a.org.id}
    )
    loner = make_user("loner@example.com")
    client.force_login(loner, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(reverse("home"))["Location"] == reverse("org_create")
