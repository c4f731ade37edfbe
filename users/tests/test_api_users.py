from __future__ import annotations

import pytest

from audit.models import AuditEvent
from core import credentials
from sessions.models import Revocation
from users.models import MqttUser
from users.services import verify_user_secret


def test_create_returns_the_secret_once_and_stores_only_its_digest(api, org_a):
    response = api.post("/users", {"name": "dev-1", "description": "Bench rig"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["username"] == f"dev-1@{org_a.org.id}"
    secret = body["secret"]
    assert len(secret) >= 43
    user = MqttUser.objects.get(org=org_a.org, name="dev-1")
    assert secret not in (user.secret_digest, user.previous_secret_digest)
    assert user.secret_digest == credentials.digest(secret)
    assert verify_user_secret(user, secret) and not verify_user_secret(user, secret + "x")
    # Never again: neither reads nor the audit log carry it.
    assert "secret" not in api.get("/users/dev-1").json()
    assert secret not in str(list(AuditEvent.objects.values()))
    event = AuditEvent.objects.get(action="mqtt_user.created")
    assert (event.actor_type, event.actor_label) == ("api_key", "API key backend")


@pytest.mark.parametrize("name", ["", "Dev", "has space", "a" * 65, "ünï", "x/y", "+", "#"])
def test_invalid_names_are_422_with_the_rule(api, name):
    response = api.post("/users", {"name": name})
    assert response.status_code == 422
    assert "1 to 64 characters" in response.json()["detail"]
    assert not MqttUser.objects.exists()


def test_a_duplicate_name_is_409(api):
    assert api.post("/users", {"name": "dev-1"}).status_code == 201
    response = api.post("/users", {"name": "dev-1"})
    assert response.status_code == 409
    assert "already exists" in response.json()["detail"]


def test_the_user_quota_is_enforced_with_a_clear_message(api, org_a):
    org_a.org.max_mqtt_users = 2
    org_a.org.save()
    assert api.post("/users", {"name": "a"}).status_code == 201
    assert api.post("/users", {"name": "b"}).status_code == 201
    response = api.post("/users", {"name": "c"})
    assert response.status_code == 409
    assert "limit of 2 MQTT users" in response.json()["detail"]
    assert MqttUser.objects.count() == 2


def test_list_search_filter_and_paginate(api):
    for name in ("alpha", "beta", "gamma"):
        api.post("/users", {"name": name})
    api.patch("/users/beta", {"enabled": False})
    assert [u["name"] for u in api.get("/users").json()["users"]] == ["alpha", "beta", "gamma"]
    assert [u["name"] for u in api.get("/users?q=mm").json()["users"]] == ["gamma"]
    assert [u["name"] for u in api.get("/users?status=disabled").json()["users"]] == ["beta"]
    first = api.get("/users?limit=2").json()
    assert [u["name"] for u in first["users"]] == ["alpha", "beta"] and first["next"] == "beta"
    second = api.get(f"/users?limit=2&after={first['next']}").json()
    assert [u["name"] for u in second["users"]] == ["gamma"] and second["next"] is None
    bad = api.get("/users?status=bogus")
    assert (
        bad.status_code == 422
        and bad.json()["detail"] == "status must be one of enabled, disabled, never_seen."
    )


def test_patch_disable_emits_a_disconnect_and_an_audit_event(api, org_a):
    api.post("/users", {"name": "dev-1"})
    response = api.patch("/users/dev-1", {"enabled": False, "description": "parked"})
    assert response.status_code == 200
    assert response.json()["enabled"] is False
    revocation = Revocation.objects.get()
    assert (revocation.kind, revocation.username, revocation.reason) == (
        "disconnect",
        f"dev-1@{org_a.org.id}",
        "user_disabled",
    )
    event = AuditEvent.objects.get(action="mqtt_user.disabled")
    assert event.details["before"] == {"description": "", "enabled": True}
    assert api.patch("/users/dev-1", {"enabled": "maybe"}).status_code == 422


def test_rotate_with_grace_keeps_the_previous_secret_working_until_it_ends(api):
    old = api.post("/users", {"name": "dev-1"}).json()["secret"]
    response = api.post("/users/dev-1/rotate", {"grace_seconds": 300})
    assert response.status_code == 200
    new = response.json()["secret"]
    user = MqttUser.objects.get(name="dev-1")
    assert verify_user_secret(user, new) and verify_user_secret(user, old)
    later = user.previous_secret_valid_until
    assert not verify_user_secret(user, old, now=later)
    assert api.post("/users/dev-1/rotate", {"grace_seconds": 42}).status_code == 422


def test_rotate_without_grace_drops_the_old_secret_and_its_sessions(api):
    old = api.post("/users", {"name": "dev-1"}).json()["secret"]
    new = api.post("/users/dev-1/rotate", {}).json()["secret"]
    user = MqttUser.objects.get(name="dev-1")
    assert verify_user_secret(user, new) and not verify_user_secret(user, old)
    assert Revocation.objects.get().reason == "secret_rotated"


def test_delete_keeps_the_username_in_the_audit_history(api, org_a):
    api.post("/users", {"name": "dev-1"})
    assert api.delete("/users/dev-1").status_code == 204
    assert not MqttUser.objects.exists()
    event = AuditEvent.objects.get(action="mqtt_user.deleted")
    assert event.subject_label == f"dev-1@{org_a.org.id}"
    assert api.delete("/users/dev-1").status_code == 404


def test_another_orgs_user_is_404_on_every_endpoint(api, api_key_for, org_b, client):
    from conftest import ApiClient

    ApiClient(client, api_key_for(org_b)[1]).post("/users", {"name": "theirs"})
    for method, path, body in [
        ("get", "/users/theirs", None),
        ("patch", "/users/theirs", {"enabled": False}),
        ("delete", "/users/theirs", None),
        ("post", "/users/theirs/rotate", {}),
        ("post", "/tokens", {"user": "theirs"}),
    ]:
        response = api.call(method, path, body)
        assert response.status_code == 404, (method, path)
    assert api.get("/users").json() == {"users": [], "next": None}
    assert MqttUser.objects.get(name="theirs").enabled


def test_authentication_errors_say_what_is_wrong(api, api_key_for, org_a):
    from audit.services import Actor
    from orgs.api_keys import api_key_revoke

    assert api.with_key(None).get("/users").json() == {
        "detail": "Missing API key: send the header `Authorization: Bearer sk_...`."
    }
    assert api.with_key("sk_nope").get("/users").status_code == 401
    response = api.get("/users", HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")
    assert response.status_code == 401 and "Malformed" in response.json()["detail"]
    key, value = api_key_for(org_a, name="old")
    api_key_revoke(key=key, actor=Actor.system())
    response = api.with_key(value).get("/users")
    assert response.status_code == 401 and response.json()["detail"] == "Invalid or revoked API key."


def test_a_key_without_the_manage_scope_gets_403(api, api_key_for, org_a):
    minting_only = api.with_key(api_key_for(org_a, scopes=["tokens:mint"])[1])
    response = minting_only.post("/users", {"name": "dev-1"})
    assert response.status_code == 403
    assert response.json()["detail"] == "This API key lacks the 'manage' scope."
    assert not MqttUser.objects.exists()


def test_bodies_that_are_not_json_utf8_or_too_big_are_refused(api, settings):
    assert api.call("post", "/users", raw=b"\xff\xfe\x00{").status_code in (400, 422)
    assert api.call("post", "/users", raw=b"{not json").status_code in (400, 422)
    assert api.call("post", "/users", raw=b"[1, 2]").status_code == 422
    big = api.call(
        "post", "/users", raw=b'{"name": "' + b"a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10) + b'"}'
    )
    assert big.status_code == 413
    for response in (api.call("post", "/users", raw=b"\xff\xfe\x00{"), big):
        assert "detail" in response.json()
    assert not MqttUser.objects.exists()
