from __future__ import annotations

import html

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from audit.services import Actor
from core import credentials
from sessions.models import Revocation
from users.models import MqttUser
from users.services import user_create


def _url(url_name, world, **kwargs):
    return reverse(url_name, kwargs={"org_id": world.org.id, **kwargs})


@pytest.fixture
def some_users(org_a):
    for name, enabled in [("alpha", True), ("beta", False), ("gamma", True)]:
        user, _ = user_create(org=org_a.org, name=name, description=f"{name} rig", actor=Actor.system())
        if not enabled:
            MqttUser.objects.filter(pk=user.pk).update(enabled=False)


def test_list_searches_filters_and_answers_htmx_with_the_results_only(org_a, client_for, some_users):
    client = client_for(org_a.auditor)
    page = client.get(_url("users:list", org_a)).content.decode()
    assert all(n in page for n in ("alpha", "beta", "gamma")) and "New MQTT user" not in page
    found = client.get(
        _url("users:list", org_a), {"q": "gam"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="user-results"
    ).content.decode()
    assert "gamma" in found and "alpha" not in found and "<nav" not in found
    disabled = client.get(_url("users:list", org_a), {"status": "disabled"}).content.decode()
    assert "beta" in disabled and "alpha@" not in disabled
    assert "No user matches" in client.get(_url("users:list", org_a), {"q": "zzz"}).content.decode()


def test_list_paginates(org_a, client_for):
    for i in range(30):
        user_create(org=org_a.org, name=f"dev-{i:02d}", actor=Actor.system())
    client = client_for(org_a.admin)
    first = client.get(_url("users:list", org_a), {"status": "enabled"}).content.decode()
    assert "dev-00" in first and "dev-25" not in first and "First page" not in first
    assert 'href="?status=enabled&after=dev-24">Next</a>' in first  # the filter stays
    second = client.get(_url("users:list", org_a), {"status": "enabled", "after": "dev-24"}).content.decode()
    assert "dev-25" in second and "dev-29" in second and "dev-00" not in second
    assert 'href="?status=enabled">First page</a>' in second and ">Next</a>" not in second


def test_create_reveals_the_secret_once_and_pushes_the_detail_url(org_a, client_for):
    response = client_for(org_a.admin).post(
        _url("users:create", org_a), {"name": "dashboard", "description": "ops"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response["HX-Push-Url"] == _url("users:detail", org_a, name="dashboard")
    assert "no-store" in response["Cache-Control"]
    user = MqttUser.objects.get(name="dashboard")
    body = response.content.decode()
    secret = body.split('data-testid="secret">')[1].split("<")[0]
    assert credentials.digest(secret) == user.secret_digest
    assert f"-u '{user.username}' -P '{secret}'" in html.unescape(body)  # the mosquitto_pub snippet
    assert "client.loop_start()" in html.unescape(body)  # the paho snippet sends what it publishes
    # A new user's ACL grants nothing: the page loads the note that the snippet's message would be dropped.
    note_url = _url("acls:user_snippet_note", org_a, name="dashboard")
    assert f'hx-get="{note_url}" hx-trigger="load"' in body
    note = client_for(org_a.admin).get(note_url).content.decode()
    assert 'data-testid="snippet-acl-note"' in note and "may not publish to dashboard/hello" in note
    detail = client_for(org_a.admin).get(_url("users:detail", org_a, name="dashboard")).content.decode()
    assert secret not in detail


@pytest.mark.parametrize(
    "data, message",
    [
        ({"name": "Bad Name"}, "1 to 64 characters"),
        ({"name": ""}, "This field is required"),
        ({"name": "x" * 65}, "at most 64 characters"),
    ],
)
def test_create_refuses_bad_names_in_place(org_a, client_for, data, message):
    response = client_for(org_a.admin).post(_url("users:create", org_a), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not MqttUser.objects.exists()


def test_create_refuses_a_duplicate_and_a_full_quota(org_a, client_for, some_users):
    client = client_for(org_a.admin)
    assert "already exists" in client.post(_url("users:create", org_a), {"name": "alpha"}).content.decode()
    org_a.org.max_mqtt_users = 3
    org_a.org.save()
    full = client.post(_url("users:create", org_a), {"name": "delta"})
    assert full.status_code == 422 and "limit of 3 MQTT users" in full.content.decode()
    assert MqttUser.objects.count() == 3


def test_rotate_with_grace_reveals_a_new_secret(org_a, client_for, some_users):
    response = client_for(org_a.admin).post(
        _url("users:rotate", org_a, name="alpha"), {"grace_seconds": "3600"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "The previous secret keeps working until" in body
    user = MqttUser.objects.get(name="alpha")
    secret = body.split('data-testid="secret">')[1].split("<")[0]
    assert credentials.digest(secret) == user.secret_digest and user.previous_secret_digest
    bad = client_for(org_a.admin).post(_url("users:rotate", org_a, name="alpha"), {"grace_seconds": "7"})
    assert bad.status_code == 302
    assert MqttUser.objects.get(name="alpha").secret_digest == user.secret_digest


def test_disable_enable_and_describe(org_a, client_for, some_users):
    client = client_for(org_a.admin)
    client.post(_url("users:update", org_a, name="alpha"), {"enabled": "false"})
    assert not MqttUser.objects.get(name="alpha").enabled
    assert Revocation.objects.get().reason == "user_disabled"
    client.post(_url("users:update", org_a, name="alpha"), {"enabled": "true"})
    client.post(_url("users:update", org_a, name="alpha"), {"description": "new words"})
    user = MqttUser.objects.get(name="alpha")
    assert user.enabled and user.description == "new words"
    assert client.post(_url("users:update", org_a, name="alpha"), {"enabled": "sure"}).status_code == 302
    assert (
        client.post(_url("users:update", org_a, name="alpha"), {"description": "x" * 501}).status_code == 302
    )
    assert MqttUser.objects.get(name="alpha").description == "new words"
    actions = list(AuditEvent.objects.filter(subject_id=user.id).values_list("action", flat=True))
    assert {"mqtt_user.disabled", "mqtt_user.enabled", "mqtt_user.updated"} <= set(actions)


def test_delete_needs_the_name_typed(org_a, client_for, some_users):
    client = client_for(org_a.admin)
    assert client.get(_url("users:delete", org_a, name="alpha")).status_code == 200
    client.post(_url("users:delete", org_a, name="alpha"), {"confirm": "nope"})
    assert MqttUser.objects.filter(name="alpha").exists()
    response = client.post(_url("users:delete", org_a, name="alpha"), {"confirm": "alpha"})
    assert response.status_code == 302 and not MqttUser.objects.filter(name="alpha").exists()


def test_the_audit_tab_lists_this_users_events_only(org_a, client_for, some_users):
    client = client_for(org_a.auditor)
    page = client.get(_url("users:detail", org_a, name="alpha"), {"tab": "audit"}).content.decode()
    assert page.count("mqtt_user.created") == 1


def test_the_sessions_tab_refuses_a_page_link_that_is_not_ours(org_a, client_for, some_users):
    client = client_for(org_a.auditor)
    assert client.get(_url("users:detail", org_a, name="alpha"), {"tab": "sessions"}).status_code == 200
    bad = client.get(_url("users:detail", org_a, name="alpha"), {"tab": "sessions", "before": "garbage"})
    assert bad.status_code == 400 and "not valid any more" in bad.content.decode()
