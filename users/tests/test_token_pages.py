from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import Actor
from users.models import TempToken
from users.services import user_create


def _url(url_name, world, **kwargs):
    return reverse(url_name, kwargs={"org_id": world.org.id, **kwargs})


@pytest.fixture
def browser_user(org_a):
    return user_create(org=org_a.org, name="browser", actor=Actor.system())[0]


def test_an_admin_mints_a_token_and_sees_it_once(org_a, client_for, browser_user):
    client = client_for(org_a.admin)
    response = client.post(
        _url("tokens:mint", org_a),
        {"user": "browser", "lifetime": "900", "label": "console"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    token = TempToken.objects.get()
    assert f"cst_{token.id}_" in response.content.decode()
    assert round((token.expires_at - token.created_at).total_seconds()) == 900
    assert token.minted_by_label == org_a.admin.email
    listing = client.get(_url("tokens:list", org_a)).content.decode()
    assert token.display_prefix in listing and f"cst_{token.id}_" not in listing


@pytest.mark.parametrize(
    "ttl, message",
    [
        ("30", "Choose one of the lifetimes listed"),
        ("999999", "Choose one of the lifetimes listed"),
        ("soon", "Choose one of the lifetimes listed"),
        ("", "This field is required"),
    ],
)
def test_a_bad_lifetime_is_explained_in_the_mint_card(org_a, client_for, browser_user, ttl, message):
    response = client_for(org_a.admin).post(
        _url("tokens:mint", org_a), {"user": "browser", "lifetime": ttl}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    assert 'id="mint-card"' in response.content.decode()
    assert not TempToken.objects.exists()


def test_without_htmx_a_refused_mint_shows_the_whole_page(org_a, client_for, browser_user):
    response = client_for(org_a.admin).post(_url("tokens:mint", org_a), {"user": "browser", "lifetime": "5"})
    assert response.status_code == 422
    body = response.content.decode()
    assert "Temporary tokens" in body and "Choose one of the lifetimes listed" in body


def test_disabled_users_cannot_be_chosen(org_a, client_for, browser_user):
    browser_user.enabled = False
    browser_user.save()
    client = client_for(org_a.admin)
    assert "Create one first" in client.get(_url("tokens:list", org_a)).content.decode()
    user_create(org=org_a.org, name="enabled-one", actor=Actor.system())
    response = client.post(_url("tokens:mint", org_a), {"user": "browser"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and "Select a valid choice" in response.content.decode()
    assert not TempToken.objects.exists()


def test_revoke_and_the_refusal_for_an_expired_token(org_a, client_for, browser_user):
    from users.tokens import token_mint

    client = client_for(org_a.admin)
    token, _ = token_mint(org=org_a.org, user=browser_user, actor=Actor.system())
    response = client.post(_url("tokens:revoke", org_a, token_id=token.id), {"next": "https://evil.example/"})
    assert response["Location"] == _url("tokens:list", org_a)
    assert TempToken.objects.get(pk=token.pk).status == "revoked"
    old, _ = token_mint(org=org_a.org, user=browser_user, actor=Actor.system())
    TempToken.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    page = client.post(_url("tokens:revoke", org_a, token_id=old.pk), follow=True).content.decode()
    assert "has already expired" in page
    assert AuditEvent.objects.filter(action="token.revoked").count() == 1


def test_list_filters_by_user_and_status(org_a, client_for, browser_user):
    from users.tokens import token_mint

    other = user_create(org=org_a.org, name="other", actor=Actor.system())[0]
    mine, _ = token_mint(org=org_a.org, user=browser_user, actor=Actor.system())
    theirs, _ = token_mint(org=org_a.org, user=other, actor=Actor.system())
    client = client_for(org_a.auditor)
    by_user = client.get(_url("tokens:list", org_a), {"user": "other"}).content.decode()
    assert theirs.display_prefix in by_user and mine.display_prefix not in by_user
    assert ">Revoke</button>" not in by_user  # auditors read only
    assert (
        "No token matches" in client.get(_url("tokens:list", org_a), {"status": "revoked"}).content.decode()
    )


def test_the_lifetime_picker_offers_what_the_org_allows_in_words(org_a, client_for, browser_user):
    from core.text import duration_words

    assert [duration_words(s) for s in (59, 60, 900, 3600, 5400, 86400, 90061)] == [
        "59 seconds",
        "1 minute",
        "15 minutes",
        "1 hour",
        "1 hour 30 minutes",
        "1 day",
        "1 day 1 hour",
    ]
    org_a.org.token_ttl_default, org_a.org.token_ttl_max = 1200, 1800
    org_a.org.save()
    page = client_for(org_a.admin).get(_url("tokens:list", org_a)).content.decode()
    assert '<option value="1200" selected>20 minutes (the default)</option>' in page
    assert '<option value="1800">30 minutes</option>' in page and 'value="3600"' not in page
    assert "Default lifetime 20 minutes, at most 30 minutes." in page
    assert "ttl_seconds" not in page
