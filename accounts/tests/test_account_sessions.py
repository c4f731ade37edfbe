"""A person's sessions: listed with their device and last activity; the others can be
signed out; a password change ends them."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def _signed_in(email: str, agent: str) -> Client:
    client = Client(HTTP_USER_AGENT=agent)
    assert client.post(reverse("account_login"), {"login": email, "password": PASSWORD}).status_code == 302
    return client


def test_the_sessions_page_lists_each_device_and_signs_out_the_others(db):
    person = make_user("person@example.com", PASSWORD)
    laptop = _signed_in(person.email, "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0")
    phone = _signed_in(person.email, "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0) Safari/604.1")
    page = laptop.get(reverse("usersessions_list")).content.decode()
    assert "Firefox" in page and "iPhone" in page
    laptop.post(reverse("usersessions_list"), {"sessions": []})  # "Sign out other sessions"
    assert "_auth_user_id" in laptop.session
    assert phone.get(reverse("home")).status_code == 302 and "_auth_user_id" not in phone.session


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(db):
    person = make_user("person@example.com", PASSWORD)
    here = _signed_in(person.email, "here")
    elsewhere = _signed_in(person.email, "elsewhere")
    new = "another-good-pass-8"
    response = here.post(
        reverse("account_change_password"), {"oldpassword": PASSWORD, "password1": new, "password2": new}
    )
    assert response.status_code == 302
    assert here.get(reverse("account_change_password")).status_code == 200  # still signed in here
    assert elsewhere.get(reverse("account_change_password")).status_code == 302  # signed out there


@pytest.mark.parametrize(
    ("agent", "words"),
    [
        ("Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0", "Firefox 140 on Linux"),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
            "Mobile Safari 17 on iOS (iPhone)",
        ),
        ("curl/8.1", "curl 8"),
        ("", "Unknown device"),
        ("\x00<script>", "Unknown browser"),
    ],
)
def test_a_device_is_named_by_its_browser_and_system(agent, words):
    from accounts.templatetags.devices import device

    assert device(agent) == words
