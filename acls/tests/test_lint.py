from __future__ import annotations

import pytest

from acls.lint import lint_rule_set_sharing, lint_rules, score


def codes(rules, **kwargs):
    return [(f.code, f.rule_index) for f in lint_rules(rules, **kwargs)]


@pytest.mark.parametrize(
    "rules, expected",
    [
        ([("allow", "all", "#")], [("L001", 0)]),
        ([("allow", "subscribe", "+/#")], [("L001", 0)]),
        ([("allow", "publish", "devices/#")], [("L002", 0)]),
        (
            [("allow", "all", "agents/#"), ("deny", "all", "agents/secret")],
            [("L002", 0), ("L004", 1), ("L008", 1)],
        ),
        ([("allow", "subscribe", "a/b"), ("allow", "subscribe", "a/b")], [("L005", 1)]),
        ([("deny", "publish", "a/x"), ("allow", "subscribe", "a/#")], [("L008", 0)]),
        ([("deny", "all", "a/secret"), ("allow", "all", "a/+")], [("L010", 1)]),
        # EMQX: a trailing + grants the subscription a/# too; publish rules are not affected.
        ([("allow", "subscribe", "a/+")], [("L010", 0)]),
        ([("allow", "publish", "a/+")], []),
        ([("deny", "subscribe", "a/+"), ("allow", "subscribe", "a/b")], [("L004", 1)]),
        ([("allow", "subscribe", "org_abcdefghijkl/a")], [("L009", 0)]),
        # Topics that look right and match nothing the clients send (the lint scored them 100).
        ([("allow", "subscribe", "/abs/path")], [("L011", 0)]),
        ([("allow", "subscribe", "a//b")], [("L012", 0)]),
        ([("allow", "subscribe", "a/b/")], [("L012", 0)]),
        ([("allow", "subscribe", "$SYS/#")], [("L013", 0)]),
        ([("allow", "subscribe", " ")], [("L014", 0)]),
        ([("allow", "subscribe", "a/b ")], [("L014", 0)]),
        ([("allow", "publish", "devices/%u/telemetry"), ("allow", "subscribe", "devices/%u/inbox")], []),
    ],
)
def test_findings(rules, expected):
    assert codes(rules) == expected


def test_an_empty_user_acl_is_reported_but_an_empty_rule_set_is_not():
    assert codes([]) == [("L006", None)]
    assert codes([], owner="rule_set") == []


def test_each_finding_says_why_and_how_to_fix():
    (finding,) = lint_rules([("allow", "all", "#")])
    assert finding.severity == "high"
    assert "whole namespace" in finding.reason and "%u" in finding.fix


def test_a_per_device_subtree_shared_by_many_users():
    rules = [("allow", "publish", "agents/agent-01/#"), ("allow", "publish", "agents/%u/#")]
    (finding,) = lint_rule_set_sharing(rules, assigned_users=5)
    assert (finding.code, finding.rule_index) == ("L007", 0)
    assert "agents/%u/#" in finding.fix
    assert lint_rule_set_sharing(rules, assigned_users=1) == []


def test_score():
    assert score([]) == 100
    assert score(lint_rules([("allow", "all", "#")])) == 70
    assert score(lint_rules([("allow", "all", "#")] * 5)) == 0
