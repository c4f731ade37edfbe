"""acls.policy: first matching rule decides, placeholders, subscriptions, the trie."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acls.policy import Rule, compile_policy, expand
from acls.topics import InvalidTopic, covers, intersects, matches

from .test_topics import filters, topics

AGENT = [("allow", "publish", "agents/%u/#"), ("allow", "subscribe", "agents/%u/inbox")]
DASHBOARD = [("allow", "publish", "commands/#"), ("allow", "subscribe", "agents/#")]


def decide(rules, action, topic, **who):
    who.setdefault("username", "agent-01")
    return compile_policy(rules, **who).decide(action, topic)


def test_the_issue_examples():
    assert decide(AGENT, "publish", "agents/agent-01/telemetry").allowed
    assert not decide(AGENT, "publish", "agents/agent-02/telemetry").allowed
    assert decide(AGENT, "subscribe", "agents/agent-01/inbox").allowed
    assert not decide(AGENT, "subscribe", "agents/agent-01/#").allowed
    assert decide(DASHBOARD, "subscribe", "agents/+/status").allowed
    assert decide(DASHBOARD, "publish", "commands/agent-01/reboot").allowed
    assert not decide(DASHBOARD, "publish", "agents/agent-01/telemetry").allowed


def test_first_matching_rule_decides_and_explains_itself():
    rules = [("deny", "all", "agents/secret"), ("allow", "all", "agents/#"), ("deny", "publish", "agents/x")]
    denied = decide(rules, "publish", "agents/secret")
    assert (denied.allowed, denied.rule_index, denied.reason) == (False, 0, "rule")
    allowed = decide(rules, "publish", "agents/x")
    assert (allowed.allowed, allowed.rule_index) == (True, 1)
    nothing = decide(rules, "publish", "other")
    assert (nothing.allowed, nothing.rule_index, nothing.reason) == (False, None, "default")


def test_subscriptions_must_be_covered_by_the_deciding_allow():
    assert decide([("allow", "subscribe", "agents/#")], "subscribe", "agents/+/status").allowed
    broader = decide([("allow", "subscribe", "agents/a/status")], "subscribe", "agents/+/status")
    assert (broader.allowed, broader.rule_index, broader.reason) == (False, 0, "broader_than_granted")
    first_deny = decide(
        [("deny", "subscribe", "agents/secret"), ("allow", "subscribe", "agents/#")], "subscribe", "agents/#"
    )
    assert (first_deny.allowed, first_deny.rule_index) == (False, 0)


def test_actions_apply_only_to_their_own_checks():
    rules = [("allow", "publish", "a/#")]
    assert decide(rules, "publish", "a/b").allowed
    assert not decide(rules, "subscribe", "a/b").allowed
    assert decide([("allow", "all", "a/#")], "subscribe", "a/b").allowed


def test_placeholders_expand_to_the_user_and_client():
    rules = [("allow", "publish", "devices/%c/%u/#"), ("allow", "publish", "x/dev-%u")]
    assert decide(rules, "publish", "devices/c1/agent-01/t", client_id="c1").allowed
    assert not decide(rules, "publish", "devices/c2/agent-01/t", client_id="c1").allowed
    assert decide(rules, "publish", "x/dev-agent-01").allowed


@pytest.mark.parametrize("client_id", ["a/b", "+", "#", "x+y", "", None])
def test_a_placeholder_value_with_a_wildcard_or_no_value_matches_nothing(client_id):
    rules = [("allow", "all", "devices/%c/#")]
    for topic in ("devices/a/b/x", "devices/anything/x", "devices//x"):
        assert not decide(rules, "publish", topic, client_id=client_id).allowed
    assert not decide(rules, "subscribe", "devices/#", client_id=client_id).allowed
    assert expand("devices/%c/#", username="u", client_id=client_id) is None


def test_dollar_topics_are_not_reached_by_leading_wildcards():
    assert not decide([("allow", "all", "#")], "publish", "$SYS/x").allowed
    assert not decide([("allow", "all", "+/x")], "subscribe", "$SYS/x").allowed
    assert decide([("allow", "all", "$SYS/#")], "subscribe", "$SYS/+").allowed


def test_invalid_topics_are_denied_not_raised():
    policy = compile_policy([("allow", "all", "#")], username="u")
    assert policy.decide("publish", "a/+").reason == "invalid"
    assert policy.decide("subscribe", "a/#/b").reason == "invalid"
    with pytest.raises(ValueError, match="Unknown action"):
        policy.decide("connect", "a")


@pytest.mark.parametrize(
    "rule, message",
    [
        (("maybe", "all", "a"), "Rule 0: Unknown permission 'maybe'"),
        (("allow", "read", "a"), "Unknown action 'read'"),
        (("allow", "all", "a/#/b"), "'#' must be the last level"),
        (("allow", "all", "a/%x"), "Unknown placeholder '%x'"),
    ],
)
def test_invalid_rules_are_refused_when_compiling(rule, message):
    with pytest.raises(ValueError, match=message):
        compile_policy([rule], username="u")


def test_rules_may_be_objects_with_the_three_attributes():
    rule = SimpleNamespace(permission="allow", action="publish", topic="a")
    assert compile_policy([rule, Rule("deny", "all", "b")], username="u").decide("publish", "a").allowed
    assert issubclass(InvalidTopic, ValueError)


# --- The compiled trie decides exactly as a plain loop over the rules -------------------

rule_lists = st.lists(
    st.tuples(
        st.sampled_from(["allow", "deny"]), st.sampled_from(["publish", "subscribe", "all"]), filters()
    ),
    max_size=12,
)


def loop_decide(rules, action, topic):
    for index, (permission, rule_action, rule_filter) in enumerate(rules):
        if rule_action not in (action, "all"):
            continue
        if action == "publish" and matches(rule_filter, topic):
            return permission == "allow", index
        if action == "subscribe" and intersects(rule_filter, topic):
            return permission == "allow" and covers(rule_filter, topic), index
    return False, None


@settings(max_examples=600)
@given(rule_lists, topics)
def test_publish_decisions_equal_the_plain_loop(rules, topic):
    decision = compile_policy(rules, username="u").decide("publish", topic)
    assert (decision.allowed, decision.rule_index) == loop_decide(rules, "publish", topic)


@settings(max_examples=600)
@given(rule_lists, filters())
def test_subscribe_decisions_equal_the_plain_loop(rules, subscription):
    decision = compile_policy(rules, username="u").decide("subscribe", subscription)
    assert (decision.allowed, decision.rule_index) == loop_decide(rules, "subscribe", subscription)
