"""acls.policy: first matching rule decides (EMQX 5.8's semantics), placeholders,
subscriptions, the trie."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acls.policy import Rule, compile_policy, expand
from acls.topics import InvalidTopic, acl_matches

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


def test_a_subscription_is_decided_by_the_first_rule_matching_its_filter_as_words():
    assert decide([("allow", "subscribe", "agents/#")], "subscribe", "agents/+/status").allowed
    # A literal rule level never matches the subscription's '+': nothing matches, default deny.
    narrower = decide([("allow", "subscribe", "agents/a/status")], "subscribe", "agents/+/status")
    assert (narrower.allowed, narrower.rule_index, narrower.reason) == (False, None, "default")
    # The issue's example: EMQX 5 grants x/# here, and so do we (deliveries on x/secret are
    # still refused by the broker, which checks each delivery as a subscribe to its topic).
    rules = [("deny", "subscribe", "agents/secret"), ("allow", "subscribe", "agents/#")]
    granted = decide(rules, "subscribe", "agents/#")
    assert (granted.allowed, granted.rule_index) == (True, 1)
    refused = decide(rules, "subscribe", "agents/secret")
    assert (refused.allowed, refused.rule_index) == (False, 0)
    # A rule's '+' matches any one level of the filter, its '#' too.
    assert decide([("allow", "subscribe", "agents/+")], "subscribe", "agents/#").allowed
    assert decide([("deny", "subscribe", "agents/#")], "subscribe", "agents/+").rule_index == 0


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


def test_dollar_levels_have_no_exception_inside_the_namespace():
    # Relative "$SYS/x" is "<org_id>/$SYS/x": an ordinary topic of the org, as EMQX decides.
    assert decide([("allow", "all", "#")], "publish", "$SYS/x").allowed
    assert decide([("allow", "all", "+/x")], "subscribe", "$SYS/x").allowed
    assert decide([("allow", "all", "$SYS/#")], "subscribe", "$SYS/+").allowed


def test_placeholders_expand_once_and_never_into_another_placeholder():
    rules = [("allow", "publish", "devices/%c/%u")]
    policy = compile_policy(rules, username="agent-01", client_id="%u")
    assert policy.expanded == ["devices/%u/agent-01"]
    assert policy.decide("publish", "devices/%u/agent-01").allowed
    assert not policy.decide("publish", "devices/agent-01/agent-01").allowed
    assert expand("devices/%c", username="u", client_id="${username}") is None


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
        if rule_action in (action, "all") and acl_matches(rule_filter, topic):
            return permission == "allow", index
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
