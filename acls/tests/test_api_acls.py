from __future__ import annotations

import pytest

from acls.models import RuleSet
from users.models import MqttUser

AGENT = [
    {"permission": "allow", "action": "publish", "topic": "agents/%u/#"},
    {"permission": "allow", "action": "subscribe", "topic": "agents/%u/inbox"},
]


@pytest.fixture
def agent(api):
    api.post("/users", {"name": "agent-01"})
    return MqttUser.objects.get(name="agent-01")


def test_get_and_put_a_users_acl(api, agent):
    assert api.get("/users/agent-01/acl").json() == {"rules": [], "rule_sets": [], "revision": 0}
    api.post("/rule-sets", {"name": "agent", "rules": AGENT})
    response = api.call(
        "put", "/users/agent-01/acl", {"rules": [AGENT[0]], "rule_sets": ["agent"], "revision": 0}
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"rules": [AGENT[0]], "rule_sets": ["agent"], "revision": 1}
    stale = api.call("put", "/users/agent-01/acl", {"rules": [], "rule_sets": [], "revision": 0})
    assert stale.status_code == 409 and "changed by someone else" in stale.json()["detail"]


def test_invalid_rules_get_422_with_index_and_reason(api, agent):
    bad = [
        AGENT[0],
        {"permission": "allow", "action": "all", "topic": "a#"},
        {"permission": "allow", "action": "read", "topic": "a"},
        {"permission": "allow", "action": "all", "topic": ""},
    ]
    response = api.call("put", "/users/agent-01/acl", {"rules": bad, "rule_sets": [], "revision": 0})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [e["index"] for e in errors] == [1, 2, 3]
    assert errors[0]["reason"] == "'#' must be a whole level: level 1 is 'a#'."
    assert "Unknown action 'read'" in errors[1]["reason"]
    assert api.get("/users/agent-01/acl").json()["revision"] == 0


def test_rule_sets_crud(api):
    created = api.post("/rule-sets", {"name": "agent", "description": "devices", "rules": AGENT})
    assert created.status_code == 201 and created.json()["revision"] == 1
    assert api.post("/rule-sets", {"name": "agent"}).status_code == 409
    assert api.post("/rule-sets", {"name": "Bad Name"}).status_code == 422
    assert (
        api.post(
            "/rule-sets", {"name": "x", "rules": [{"permission": "allow", "action": "all", "topic": "+a"}]}
        ).status_code
        == 422
    )
    assert not RuleSet.objects.filter(name="x").exists()
    updated = api.call("put", "/rule-sets/agent", {"rules": AGENT[:1], "revision": 1})
    assert updated.status_code == 200 and len(updated.json()["rules"]) == 1
    assert [rs["name"] for rs in api.get("/rule-sets").json()["items"]] == ["agent"]
    assert api.delete("/rule-sets/agent").status_code == 204
    assert api.get("/rule-sets/agent").status_code == 404


def test_another_orgs_rule_set_is_invisible(api, api_key_for, org_b, client, agent):
    from conftest import ApiClient

    ApiClient(client, api_key_for(org_b)[1]).post("/rule-sets", {"name": "theirs", "rules": AGENT})
    assert api.get("/rule-sets/theirs").status_code == 404
    assert api.get("/rule-sets").json() == {"items": [], "count": 0}
    response = api.call("put", "/users/agent-01/acl", {"rules": [], "rule_sets": ["theirs"], "revision": 0})
    assert response.status_code == 422 and "No rule set named 'theirs'" in response.json()["detail"]


def test_simulate_explains_the_decision(api, agent):
    api.post("/rule-sets", {"name": "agent", "rules": AGENT})
    api.call(
        "put",
        "/users/agent-01/acl",
        {
            "rules": [{"permission": "deny", "action": "all", "topic": "agents/%u/secret"}],
            "rule_sets": ["agent"],
            "revision": 0,
        },
    )
    allowed = api.post(
        "/simulate", {"user": "agent-01", "action": "publish", "topic": "agents/agent-01/t"}
    ).json()
    assert allowed["allowed"] is True and allowed["source"] == "rule set agent rule 1"
    assert allowed["rule"] == {
        "permission": "allow",
        "action": "publish",
        "topic": "agents/%u/#",
        "source": "agent",
        "position": 1,
    }
    denied = api.post(
        "/simulate", {"user": "agent-01", "action": "publish", "topic": "agents/agent-01/secret"}
    ).json()
    assert (denied["allowed"], denied["source"]) == (False, "own rule 1")
    nothing = api.post("/simulate", {"user": "agent-01", "action": "subscribe", "topic": "other/#"}).json()
    assert (nothing["allowed"], nothing["rule"], nothing["source"]) == (False, None, "default deny")
    assert api.post("/simulate", {"user": "agent-01", "action": "connect", "topic": "a"}).status_code == 422
    assert api.post("/simulate", {"user": "ghost", "action": "publish", "topic": "a"}).status_code == 404


def test_simulate_a_token(api, agent):
    api.call("put", "/users/agent-01/acl", {"rules": AGENT, "rule_sets": [], "revision": 0})
    token = api.post("/tokens", {"user": "agent-01"}).json()["id"]
    result = api.post(
        "/simulate", {"token": token, "action": "subscribe", "topic": "agents/agent-01/inbox"}
    ).json()
    assert result["allowed"] is True


def test_rule_sets_list_pages_in_the_database(api, agent, django_assert_max_num_queries):
    for name in ("a", "b", "c"):
        api.post("/rule-sets", {"name": name, "rules": AGENT})
    api.call("put", "/users/agent-01/acl", {"rules": [], "rule_sets": ["b"], "revision": 0})
    page = api.get("/rule-sets?limit=2&offset=1").json()
    assert page["count"] == 3
    assert [(rs["name"], rs["assigned_users"], len(rs["rules"])) for rs in page["items"]] == [
        ("b", 1, 2),
        ("c", 0, 2),
    ]
    assert api.get("/rule-sets?limit=1001").status_code == 422
    # The rules and assignment counts of a page are read together, not one query per set.
    with django_assert_max_num_queries(6):
        api.get("/rule-sets?limit=3")
