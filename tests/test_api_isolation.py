"""Tenancy across every REST API route: a key of org B gets 404 for every object of org A,
whatever the path, method or body, exactly as for an object that does not exist.

``PATH_CASES`` gives the path parameters of an org's objects for each templated route of the
OpenAPI schema (a new route without a case fails ``test_every_api_route_is_covered``);
``BODY_CASES`` the routes that name an object in their body.
"""

from __future__ import annotations

import json

import pytest

from cloudsignal_dashboard.api import api as ninja_api

PREFIX = "/api/v1"
PATH_CASES = {
    "/users/{name}": lambda w: {"name": w.mqtt_user.name},
    "/users/{name}/rotate": lambda w: {"name": w.mqtt_user.name},
    "/users/{name}/acl": lambda w: {"name": w.mqtt_user.name},
    "/tokens/{token_id}": lambda w: {"token_id": w.token.id},
    "/rule-sets/{name}": lambda w: {"name": w.rule_set.name},
}
# A valid body for each method that takes one, so what answers is the object lookup.
BODIES = {
    ("/users/{name}", "patch"): {"description": "x"},
    ("/users/{name}/rotate", "post"): {"grace_seconds": 0},
    ("/users/{name}/acl", "put"): {"rules": [], "rule_sets": [], "revision": 1},
    ("/rule-sets/{name}", "put"): {"rules": [], "revision": 1},
}
BODY_CASES = [
    ("post", "/tokens", lambda w: {"user": w.mqtt_user.name}),
    ("post", "/simulate", lambda w: {"user": w.mqtt_user.name, "action": "publish", "topic": "a"}),
    ("post", "/simulate", lambda w: {"token": w.token.id, "action": "publish", "topic": "a"}),
    ("put", "/users/{name}/acl", lambda w: {"rules": [], "rule_sets": [w.rule_set.name], "revision": 0}),
]
MISSING = {"name": "no-such-thing", "token_id": "zzzzzzzzzzzzzzzz"}


def _routes() -> dict[str, list[str]]:
    paths = ninja_api.get_openapi_schema()["paths"]
    return {path[len(PREFIX) :]: sorted(ops) for path, ops in paths.items()}


def test_every_api_route_is_covered():
    templated = {path for path in _routes() if "{" in path}
    assert templated == set(PATH_CASES), f"routes without an isolation case: {templated - set(PATH_CASES)}"


def _call(client, key: str, method: str, path: str, body=None):
    kwargs = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return getattr(client, method)(PREFIX + path, **kwargs)


@pytest.mark.parametrize("template", sorted(PATH_CASES))
def test_another_orgs_key_gets_404_on_every_method(template, org_a, org_b, client, api_key_for):
    _, key_b = api_key_for(org_b)
    params = PATH_CASES[template](org_a)
    mine = template.format(**params)
    missing = template.format(**{k: MISSING[k] for k in params})

    def shape(response, values) -> str:  # the answer with the names it echoes taken out
        detail = response.json()["detail"]
        for value in values:
            detail = detail.replace(value, "…")
        return detail

    for method in _routes()[template]:
        body = BODIES.get((template, method))
        foreign = _call(client, key_b, method, mine, body)
        assert foreign.status_code == 404, (method, mine, foreign.content)
        absent = _call(client, key_b, method, missing, body)
        assert absent.status_code == 404, (method, missing)
        assert shape(foreign, params.values()) == shape(absent, MISSING.values()), (method, mine)


@pytest.mark.parametrize("index", range(len(BODY_CASES)))
def test_another_orgs_object_named_in_a_body_is_not_found(index, org_a, org_b, client, api_key_for):
    method, template, body_of = BODY_CASES[index]
    _, key_b = api_key_for(org_b)
    path = template.format(name=org_b.mqtt_user.name)  # B's own user, where the path names one
    response = _call(client, key_b, method, path, body_of(org_a))
    assert response.status_code in (404, 422), (template, response.content)
    assert org_a.org.id not in response.content.decode()


def test_list_endpoints_show_only_the_keys_org(org_a, org_b, client, api_key_for):
    for _ in (org_a.token, org_a.rule_set, org_a.alert):  # objects of A for every list
        pass
    _, key_b = api_key_for(org_b)
    for path in ("/users", "/tokens", "/rule-sets", "/audit", "/sessions", "/alerts?status=all"):
        response = _call(client, key_b, "get", path)
        assert response.status_code == 200, path
        assert org_a.org.id not in response.content.decode(), path  # A's usernames carry its id
