"""Dates that do not exist or lie out of range, nested bodies, huge limits: a 4xx with a
message on every page, export and endpoint that takes them, never a 500."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

IMPOSSIBLE = ["2026-13-45T99:99", "2026-02-30T10:00", "0001-01-01T00:00+23:59", "9999-12-31T23:59-23:59"]
OUT_OF_RANGE = ["1900-01-01T00:00"]


@pytest.mark.parametrize("value", IMPOSSIBLE + OUT_OF_RANGE)
@pytest.mark.parametrize("name", ["audit:log", "audit:export_csv", "audit:export_jsonl", "sessions:list"])
@pytest.mark.parametrize("field", ["since", "until"])
def test_an_impossible_date_is_a_400_with_a_message(org_a, client_for, name, field, value):
    response = client_for(org_a.auditor).get(reverse(name, kwargs={"org_id": org_a.org.id}), {field: value})
    assert response.status_code == 400, (name, field, value)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert field.encode() in body


def test_a_deeply_nested_hook_body_is_a_400(client, settings, db):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {settings.BROKER_HOOK_SECRET}"}
    for depth in (20, 100_000):
        body = "[" * depth + "]" * depth
        for path in ("authn", "events", "authz"):
            response = client.post(f"/broker/v1/{path}", body, content_type="application/json", **headers)
            assert response.status_code == 400, (path, depth)
            assert "nested too deeply" in response.json()["detail"]
    flat = {"username": "a@org_aaaaaaaaaaaa", "password": "x", "clientid": {"a": [1, 2]}}
    ok = client.post("/broker/v1/authn", json.dumps(flat), content_type="application/json", **headers)
    assert ok.status_code == 200 and ok.json() == {"result": "deny"}


@pytest.mark.parametrize("path", ["/users", "/tokens", "/audit", "/sessions", "/alerts"])
def test_every_list_endpoint_caps_its_limit(api, path):
    assert api.get(f"{path}?limit=1000").status_code == 200, path
    for limit in ("1001", str(10**23), "0", "-1"):
        response = api.get(f"{path}?limit={limit}")
        assert response.status_code == 422, (path, limit)


@pytest.mark.parametrize("path", ["/tokens", "/audit", "/sessions", "/alerts"])
def test_a_cursor_we_did_not_make_is_a_422(api, path):
    for cursor in ("1000001", "x_1", "9548226899072994246656_", "_"):
        response = api.get(f"{path}?after={cursor}")
        assert response.status_code == 422 and "not valid any more" in response.json()["detail"], (
            path,
            cursor,
        )


@pytest.mark.parametrize(
    "page, path, query, message",
    [
        ("users:list", "/users", "status=bogus", "status must be one of enabled, disabled, never_seen."),
        ("tokens:list", "/tokens", "status=bogus", "status must be one of active, expired, revoked."),
        ("alerts:list", "/alerts", "status=bogus", "status must be one of active, open, acknowledged,"),
        (
            "alerts:list",
            "/alerts",
            "detector=bogus",
            "detector must be one of brute_force, shared_credentials,",
        ),
        ("tokens:list", "/tokens", "after=bogus", "That page link is not valid any more"),
        ("alerts:list", "/alerts", "after=bogus", "That page link is not valid any more"),
    ],
)
def test_a_bad_filter_is_refused_alike_by_the_page_and_the_api(
    org_a, client_for, api, page, path, query, message
):
    shown = client_for(org_a.admin).get(reverse(page, kwargs={"org_id": org_a.org.id}) + "?" + query)
    assert shown.status_code == 400 and message in shown.content.decode(), (page, query)
    answered = api.get(f"{path}?{query}")
    assert answered.status_code == 422 and answered.json()["detail"].startswith(message), (path, query)


def test_list_endpoints_read_one_page_from_the_database(api, org_a, django_assert_max_num_queries):
    from audit.services import Actor
    from users.services import user_create

    for n in range(30):
        user_create(org=org_a.org, name=f"dev-{n:02}", actor=Actor.system())
    with django_assert_max_num_queries(6) as captured:
        page = api.get("/users?limit=5&after=dev-09").json()
    assert page["next"] == "dev-14" and [u["name"] for u in page["users"]] == [
        f"dev-{n:02}" for n in range(10, 15)
    ]
    listing = [q["sql"] for q in captured.captured_queries if "users_mqttuser" in q["sql"]]
    assert listing and all("LIMIT 6" in sql and "OFFSET" not in sql for sql in listing), listing
