from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from acls.models import AclRevision, RuleSet
from acls.services import (
    RuleErrors,
    compile_user_policy,
    rollback,
    rule_set_create,
    rule_set_delete,
    rule_set_save,
    user_acl,
    user_acl_save,
)
from audit.models import AuditEvent
from audit.services import Actor
from core.errors import Conflict
from sessions.models import Revocation
from users.services import user_create

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")
AGENT = [
    {"permission": "allow", "action": "publish", "topic": "agents/%u/#"},
    {"permission": "allow", "action": "subscribe", "topic": "agents/%u/inbox"},
]


@pytest.fixture
def agent(org_a):
    return user_create(org=org_a.org, name="agent-01", actor=ACTOR)[0]


@pytest.fixture
def agent_set(org_a):
    rule_set = rule_set_create(org=org_a.org, name="agent", actor=ACTOR)
    return rule_set_save(rule_set=rule_set, rules=AGENT, revision=0, actor=ACTOR)


def test_saving_a_user_acl_snapshots_audits_and_refreshes(
    agent, agent_set, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        acl = user_acl_save(
            user=agent,
            rules=[{"permission": "deny", "action": "all", "topic": "agents/%u/secret"}],
            rule_sets=["agent"],
            revision=0,
            actor=ACTOR,
            comment="first",
        )
    assert acl.revision == 1
    assert user_acl(agent).rule_sets == ["agent"]
    revision = AclRevision.objects.get(user=agent)
    assert (revision.number, revision.comment, revision.snapshot["rule_sets"]) == (1, "first", ["agent"])
    event = AuditEvent.objects.get(action="acl.user_saved")
    assert event.details["before"] == {"rules": [], "rule_sets": []}
    assert event.details["after"]["rule_sets"] == ["agent"]
    assert Revocation.objects.filter(kind="refresh", username=agent.username, reason="acl_changed").exists()


def test_effective_rules_are_own_rules_then_rule_sets_in_order(agent, agent_set):
    user_acl_save(
        user=agent,
        rules=[{"permission": "deny", "action": "all", "topic": "agents/%u/secret"}],
        rule_sets=["agent"],
        revision=0,
        actor=ACTOR,
    )
    policy, rules = compile_user_policy(agent)
    assert [r.label for r in rules] == ["own rule 1", "rule set agent rule 1", "rule set agent rule 2"]
    assert not policy.decide("publish", "agents/agent-01/secret").allowed
    decision = policy.decide("publish", "agents/agent-01/telemetry")
    assert decision.allowed and rules[decision.rule_index].label == "rule set agent rule 1"


def test_invalid_rules_are_all_reported_by_index_and_nothing_is_saved(agent):
    rules = [
        {"permission": "allow", "action": "all", "topic": "ok"},
        {"permission": "allow", "action": "all", "topic": "a/#/b"},
        {"permission": "grant", "action": "all", "topic": "x"},
        {"permission": "allow", "action": "all", "topic": "x/%z"},
        {"permission": "allow", "action": "all"},
    ]
    with pytest.raises(RuleErrors) as error:
        user_acl_save(user=agent, rules=rules, rule_sets=[], revision=0, actor=ACTOR)
    assert sorted(error.value.errors) == [1, 2, 3, 4]
    assert "'#' must be the last level" in error.value.errors[1]
    assert "Missing topic" in error.value.errors[4]
    assert user_acl(agent).rules == [] and user_acl(agent).revision == 0


def test_a_stale_revision_is_a_clear_conflict(agent):
    user_acl_save(user=agent, rules=AGENT, rule_sets=[], revision=0, actor=ACTOR)
    with pytest.raises(Conflict, match="changed by someone else .* revision 0, it is now at revision 1"):
        user_acl_save(user=agent, rules=[], rule_sets=[], revision=0, actor=ACTOR)
    assert len(user_acl(agent).rules) == 2


def test_a_rule_set_of_another_org_cannot_be_assigned(agent, org_b):
    rule_set_create(org=org_b.org, name="theirs", actor=ACTOR)
    with pytest.raises(ValidationError, match="No rule set named 'theirs'"):
        user_acl_save(user=agent, rules=[], rule_sets=["theirs"], revision=0, actor=ACTOR)


def test_saving_a_rule_set_refreshes_every_user_it_is_assigned_to(org_a, agent, agent_set):
    other = user_create(org=org_a.org, name="agent-02", actor=ACTOR)[0]
    for user in (agent, other):
        user_acl_save(user=user, rules=[], rule_sets=["agent"], revision=0, actor=ACTOR)
    Revocation.objects.all().delete()
    rule_set_save(rule_set=agent_set, rules=AGENT[:1], revision=1, actor=ACTOR)
    assert set(Revocation.objects.values_list("username", flat=True)) == {agent.username, other.username}
    with pytest.raises(Conflict):
        rule_set_save(rule_set=agent_set, rules=[], revision=1, actor=ACTOR)


def test_rollback_restores_a_past_revision_as_a_new_one(agent):
    user_acl_save(user=agent, rules=AGENT, rule_sets=[], revision=0, actor=ACTOR)
    user_acl_save(user=agent, rules=[], rule_sets=[], revision=1, actor=ACTOR)
    first = AclRevision.objects.get(user=agent, number=1)
    restored = rollback(revision=first, expected_revision=2, actor=ACTOR)
    assert restored.number == 3 and restored.comment == "Rollback to revision 1"
    assert user_acl(agent).rules == AGENT


def test_rule_set_names_are_validated_and_unique(org_a):
    rule_set_create(org=org_a.org, name="agent", actor=ACTOR)
    with pytest.raises(Conflict, match="already exists"):
        rule_set_create(org=org_a.org, name="agent", actor=ACTOR)
    with pytest.raises(ValidationError, match="1 to 64 characters"):
        rule_set_create(org=org_a.org, name="Not Valid", actor=ACTOR)


def test_deleting_a_rule_set_unassigns_it_and_bumps_the_users_revision(agent, agent_set):
    user_acl_save(user=agent, rules=[], rule_sets=["agent"], revision=0, actor=ACTOR)
    rule_set_delete(rule_set=agent_set, actor=ACTOR)
    agent.refresh_from_db()
    assert user_acl(agent).rule_sets == [] and agent.acl_revision == 2
    assert not RuleSet.objects.exists()
