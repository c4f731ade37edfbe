from __future__ import annotations

import pytest
from django.urls import reverse

from acls.models import RuleSet
from acls.services import rule_set_create, user_acl, user_acl_save
from audit.services import Actor
from users.services import user_create

ACTOR = Actor.system()


def _url(url_name, world, **kwargs):
    return reverse(url_name, kwargs={"org_id": world.org.id, **kwargs})


@pytest.fixture
def agent(org_a):
    return user_create(org=org_a.org, name="agent-01", actor=ACTOR)[0]


def _form(rules, revision=0, rule_sets=(), **extra):
    return {
        "permission": [r[0] for r in rules],
        "action": [r[1] for r in rules],
        "topic": [r[2] for r in rules],
        "rule_sets": list(rule_sets),
        "revision": str(revision),
        **extra,
    }


def test_validate_answers_row_messages_out_of_band(org_a, client_for, agent):
    response = client_for(org_a.admin).post(
        _url("acls:user_edit", org_a, name="agent-01") + "?op=validate",
        _form([("allow", "all", "a/#/b"), ("allow", "publish", "x/#")]),
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="rule-msg-0" class="rule-msg" hx-swap-oob="true"' in body
    assert "&#x27;#&#x27; must be the last level" in body
    assert "invalid rules" in body
    assert user_acl(agent).revision == 0


def test_save_applies_everything_or_nothing(org_a, client_for, agent):
    client = client_for(org_a.admin)
    url = _url("acls:user_edit", org_a, name="agent-01")
    bad = client.post(url, _form([("allow", "all", "ok"), ("allow", "all", "+x")], op="save"))
    assert bad.status_code == 422 and "Nothing was saved" in bad.content.decode()
    assert user_acl(agent).rules == []
    good = client.post(url, _form([("allow", "subscribe", "agents/%u/inbox")], op="save", comment="why"))
    assert good.status_code == 200 and "Saved as revision 1" in good.content.decode()
    assert user_acl(agent).rules == [
        {"permission": "allow", "action": "subscribe", "topic": "agents/%u/inbox"}
    ]


def test_a_stale_editor_gets_a_conflict_and_keeps_its_edits(org_a, client_for, agent):
    user_acl_save(user=agent, rules=[], rule_sets=[], revision=0, actor=ACTOR)  # someone else saved
    response = client_for(org_a.admin).post(
        _url("acls:user_edit", org_a, name="agent-01"), _form([("allow", "all", "mine")], op="save")
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert "changed by someone else" in body and 'value="mine"' in body
    assert user_acl(agent).rules == []


def test_add_move_and_assign_operations(org_a, client_for, agent):
    rule_set_create(org=org_a.org, name="agent", actor=ACTOR)
    client = client_for(org_a.admin)
    url = _url("acls:user_edit", org_a, name="agent-01")
    added = client.post(url, _form([("allow", "all", "a")], op="add")).content.decode()
    assert added.count('data-testid="rule-row"') == 2
    moved = client.post(
        url, _form([("allow", "all", "a"), ("deny", "all", "b")], op="down:0")
    ).content.decode()
    assert moved.index('value="b"') < moved.index('value="a"')
    assigned = client.post(url, _form([], op="assign:agent")).content.decode()
    assert 'name="rule_sets" value="agent"' in assigned
    foreign = client.post(url, _form([], rule_sets=["not-ours"], op="validate")).content.decode()
    assert "not-ours" not in foreign


def test_simulate_highlights_the_deciding_rule(org_a, client_for, agent):
    response = client_for(org_a.admin).post(
        _url("acls:user_edit", org_a, name="agent-01"),
        _form(
            [("deny", "publish", "a/secret"), ("allow", "publish", "a/#")],
            op="simulate",
            sim_action="publish",
            sim_topic="a/x",
            sim_client_id="",
        ),
    )
    body = response.content.decode()
    assert "by own rule 2" in body and 'id="rule-1" class="rule-row table-success"' in body
    assert 'id="rule-0" class="rule-row evaluated"' in body


def test_auditors_read_but_cannot_save(org_a, client_for, agent):
    client = client_for(org_a.auditor)
    page = client.get(_url("acls:user", org_a, name="agent-01")).content.decode()
    assert "Save all changes" not in page and "Own rules" in page
    assert (
        client.post(_url("acls:user_edit", org_a, name="agent-01"), _form([], op="save")).status_code == 403
    )


def test_the_acl_tab_is_the_users_page_with_its_editor(org_a, client_for, agent):
    client = client_for(org_a.admin)
    old_link = client.get(_url("users:detail", org_a, name="agent-01"), {"tab": "acl"})
    assert old_link.status_code == 302 and old_link["Location"] == _url("acls:user", org_a, name="agent-01")
    page = client.get(old_link["Location"]).content.decode()
    acl_tab = f'<a class="nav-link active" href="{_url("acls:user", org_a, name="agent-01")}">ACL</a>'
    assert acl_tab in page and "Own rules" in page
    assert _url("users:detail", org_a, name="agent-01") + "?tab=sessions" in page  # the user's other tabs
    fragment = client.get(old_link["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and "Own rules" in fragment


def test_rule_set_pages(org_a, client_for, agent):
    client = client_for(org_a.admin)
    bad = client.post(_url("acls:rule_set_create", org_a), {"name": "Bad Name"})
    assert bad.status_code == 422 and "1 to 64 characters" in bad.content.decode()
    created = client.post(_url("acls:rule_set_create", org_a), {"name": "agent", "description": "devices"})
    assert created["Location"] == _url("acls:rule_set", org_a, name="agent")
    page = client.get(created["Location"]).content.decode()
    assert "Rule set agent" in page and "no user yet" in page
    saved = client.post(
        _url("acls:rule_set_edit", org_a, name="agent"),
        _form([("allow", "publish", "agents/%u/#")], op="save"),
    )
    assert "Saved as revision 1" in saved.content.decode()
    index = client.get(_url("acls:index", org_a)).content.decode()
    assert "agent" in index and 'data-testid="org-score"' in index
    client.post(_url("acls:rule_set_delete", org_a, name="agent"))
    assert not RuleSet.objects.exists()


def test_history_diff_refuses_unknown_revisions(org_a, client_for, agent):
    user_acl_save(user=agent, rules=[], rule_sets=[], revision=0, actor=ACTOR)
    page = client_for(org_a.auditor).get(
        _url("acls:user_history", org_a, name="agent-01"), {"a": "1", "b": "9"}
    )
    assert "Choose two revisions that exist" in page.content.decode()
    nonsense = client_for(org_a.auditor).get(
        _url("acls:user_history", org_a, name="agent-01"), {"a": "x", "b": "1"}
    )
    assert nonsense.status_code == 200


def test_the_simulator_page(org_a, client_for, agent):
    user_acl_save(
        user=agent,
        rules=[{"permission": "allow", "action": "subscribe", "topic": "a/#"}],
        rule_sets=[],
        revision=0,
        actor=ACTOR,
    )
    client = client_for(org_a.auditor)
    allowed = client.get(
        _url("acls:simulator", org_a), {"user": "agent-01", "action": "subscribe", "topic": "a/+"}
    )
    assert "by own rule 1" in allowed.content.decode()
    invalid = client.get(
        _url("acls:simulator", org_a), {"user": "agent-01", "action": "publish", "topic": "a/+"}
    )
    assert invalid.status_code == 422 and "cannot contain wildcards" in invalid.content.decode()
    neither = client.get(_url("acls:simulator", org_a), {"action": "publish", "topic": "a"})
    assert "Choose a user or give a token id" in neither.content.decode()


def test_the_overview_reads_in_the_same_number_of_queries_for_any_number_of_users(client_for, org_a):
    """Issue 13: it ran one query per user (48 at 40 users) and one per rule set."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from acls.services import rule_set_save
    from users.models import MqttUser

    rule = {"permission": "allow", "action": "publish", "topic": "%u/#"}
    client = client_for(org_a.owner)
    url = f"/o/{org_a.org.id}/acls/"
    client.get(url)  # the session's first page of the org notes it (the landing after sign-in)

    def queries_with(users: int) -> int:
        for _ in range(users):
            number = MqttUser.objects.filter(org=org_a.org).count()
            user, _ = user_create(org=org_a.org, name=f"dev-{number:02d}", actor=Actor.system())
            rule_set = rule_set_create(org=org_a.org, name=f"set-{number:02d}", actor=Actor.system())
            rule_set_save(rule_set=rule_set, rules=[rule], revision=0, actor=Actor.system())
            user_acl_save(
                user=user, rules=[rule], rule_sets=[rule_set.name], revision=0, actor=Actor.system()
            )
        with CaptureQueriesContext(connection) as context:
            assert client.get(url).status_code == 200
        return len(context.captured_queries)

    assert queries_with(2) == queries_with(10)
