from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from sessions.models import Revocation
from users.models import TempToken
from users.tests.presented import presented_token


@pytest.fixture
def minting(api, api_key_for, org_a):
    """A ``tokens:mint`` key of org A, with an MQTT user ``dashboard`` created by ``manage``."""
    api.post("/users", {"name": "dashboard"})
    return api.with_key(api_key_for(org_a, scopes=["tokens:mint"], name="web backend")[1])


def test_mint_returns_a_token_for_the_users_username_with_the_default_ttl(
    minting, org_a, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = minting.post("/tokens", {"user": "dashboard", "label": "browser tab"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["username"] == f"dashboard@{org_a.org.id}"
    assert body["token"].startswith(f"cst_{body['id']}_")
    assert (body["mqtt_tls_url"], body["mqtt_wss_url"]) == (
        settings.MQTT_PUBLIC_TLS_URL,
        settings.MQTT_PUBLIC_WSS_URL,
    )
    token = TempToken.objects.get(pk=body["id"])
    assert abs((token.expires_at - token.created_at).total_seconds() - 3600) < 1
    assert body["token"] not in token.secret_digest
    assert presented_token(token.user, body["token"]).id == token.id
    other_last = "B" if body["token"].endswith("A") else "A"  # 1 token in 64 ends in A
    assert presented_token(token.user, body["token"][:-1] + other_last) is None
    assert len(callbacks) == 1  # the expiry job, scheduled once the mint commits
    event = AuditEvent.objects.get(action="token.minted")
    assert (event.actor_label, event.details["ttl_seconds"]) == ("API key web backend", 3600)
    assert body["token"] not in str(event.details)


@pytest.mark.parametrize("ttl", [59, 86401, 0, -5])
def test_a_ttl_outside_the_allowed_range_names_the_range(minting, ttl):
    response = minting.post("/tokens", {"user": "dashboard", "ttl_seconds": ttl})
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "ttl_seconds: ttl_seconds must be between 60 and 86400 seconds (this organization's maximum)."
    )
    assert not TempToken.objects.exists()


def test_the_org_maximum_caps_the_ttl(minting, org_a):
    org_a.org.token_ttl_default, org_a.org.token_ttl_max = 600, 900
    org_a.org.save()
    assert minting.post("/tokens", {"user": "dashboard", "ttl_seconds": 901}).status_code == 422
    assert minting.post("/tokens", {"user": "dashboard", "ttl_seconds": 900}).status_code == 201
    default = minting.post("/tokens", {"user": "dashboard"}).json()
    token = TempToken.objects.get(pk=default["id"])
    assert round((token.expires_at - token.created_at).total_seconds()) == 600


def test_minting_for_a_disabled_or_unknown_user_is_refused(minting, api):
    api.patch("/users/dashboard", {"enabled": False})
    disabled = minting.post("/tokens", {"user": "dashboard"})
    assert disabled.status_code == 409 and "is disabled" in disabled.json()["detail"]
    unknown = minting.post("/tokens", {"user": "ghost"})
    assert unknown.status_code == 404 and "No MQTT user named 'ghost'" in unknown.json()["detail"]
    assert minting.post("/tokens", {}).status_code == 422
    assert not TempToken.objects.exists()


def test_list_filters_by_user_and_status(minting, api):
    api.post("/users", {"name": "other"})
    first = minting.post("/tokens", {"user": "dashboard"}).json()["id"]
    minting.post("/tokens", {"user": "other"})
    minting.delete(f"/tokens/{first}")
    TempToken.objects.create(
        id="expiredtokenaaaa",
        org=TempToken.objects.get(pk=first).org,
        user=TempToken.objects.get(pk=first).user,
        secret_digest="x",
        expires_at=timezone.now() - timedelta(seconds=1),
        minted_by_type="system",
    )
    listed = minting.get("/tokens").json()
    assert {t["status"] for t in listed["tokens"]} == {"active", "revoked", "expired"} and listed[
        "next"
    ] is None
    assert [t["status"] for t in minting.get("/tokens?user=other").json()["tokens"]] == ["active"]
    assert [t["id"] for t in minting.get("/tokens?status=revoked").json()["tokens"]] == [first]
    assert [t["id"] for t in minting.get("/tokens?status=expired").json()["tokens"]] == ["expiredtokenaaaa"]
    pages, cursor = [], ""
    while True:  # one at a time, newest first, every token once
        page = minting.get(f"/tokens?limit=1&after={cursor}").json()
        pages += [t["id"] for t in page["tokens"]]
        if not (cursor := page["next"]):
            break
    assert pages == [t["id"] for t in listed["tokens"]] and len(pages) == 3
    assert minting.get("/tokens?status=nope").status_code == 422


def test_revoke_drops_the_tokens_sessions_and_is_audited(minting, org_a):
    minted = minting.post("/tokens", {"user": "dashboard"}).json()
    assert minting.delete(f"/tokens/cst_{minted['id']}").status_code == 204
    token = TempToken.objects.get(pk=minted["id"])
    assert token.status == "revoked"
    revocation = Revocation.objects.get()
    assert (revocation.token_id, revocation.reason) == (token.id, "token_revoked")
    assert AuditEvent.objects.filter(action="token.revoked", subject_id=token.id).count() == 1
    assert minting.delete(f"/tokens/{minted['id']}").status_code == 204  # idempotent
    assert AuditEvent.objects.filter(action="token.revoked").count() == 1
    assert minting.delete("/tokens/doesnotexist").status_code == 404


def test_another_orgs_token_cannot_be_revoked(minting, api_key_for, org_b, client):
    from conftest import ApiClient

    theirs = ApiClient(client, api_key_for(org_b)[1])
    theirs.post("/users", {"name": "dashboard"})
    minted = theirs.post("/tokens", {"user": "dashboard"}).json()
    assert minting.delete(f"/tokens/{minted['id']}").status_code == 404
    assert minting.get("/tokens").json() == {"tokens": [], "next": None}
    assert TempToken.objects.get(pk=minted["id"]).status == "active"


def test_a_manage_key_may_mint_tokens_too(api, minting):
    assert api.post("/tokens", {"user": "dashboard"}).status_code == 201  # manage grants all


def test_minting_is_rate_limited_per_key_with_retry_after(minting, api_key_for, org_a, settings):
    settings.TOKEN_MINT_RATE_LIMIT = "3/minute"
    for _ in range(3):
        assert minting.post("/tokens", {"user": "dashboard"}).status_code == 201
    limited = minting.post("/tokens", {"user": "dashboard"})
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert "retry in" in limited.json()["detail"]
    other_key = minting.with_key(api_key_for(org_a, scopes=["tokens:mint"], name="other")[1])
    assert other_key.post("/tokens", {"user": "dashboard"}).status_code == 201
    assert TempToken.objects.count() == 4
