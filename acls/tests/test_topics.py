"""acls.topics against MQTT §4.7, including the cases people get wrong."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acls.topics import (
    InvalidTopic,
    acl_covers,
    acl_matches,
    covers,
    intersects,
    matches,
    validate_filter,
    validate_topic,
)


@pytest.mark.parametrize(
    "value, message",
    [
        ("a/#/b", "'#' must be the last level: it is level 2 of 3."),
        ("a#", "'#' must be a whole level: level 1 is 'a#'."),
        ("a/b#", "'#' must be a whole level: level 2 is 'b#'."),
        ("+a", "'+' must be a whole level: level 1 is '+a'."),
        ("a/x+/c", "'+' must be a whole level: level 2 is 'x+'."),
        ("", "The topic filter must not be empty."),
        ("a/\x00b", "The topic filter contains U+0000 (a NUL character) at level 2."),
        ("a" * 65_536, "The topic filter is 65,536 bytes long; MQTT allows at most 65,535."),
        ("é" * 32_768, "The topic filter is 65,536 bytes long; MQTT allows at most 65,535."),
        ("a/\udc80", "The topic filter is not valid UTF-8 (it contains a lone surrogate)."),
        (b"a/b", "The topic filter must be text, not bytes."),
    ],
)
def test_invalid_filters_say_what_and_where(value, message):
    with pytest.raises(InvalidTopic) as error:
        validate_filter(value)
    assert str(error.value) == message
    assert isinstance(error.value, ValueError)


@pytest.mark.parametrize("value", ["#", "+", "a/#", "+/+", "/", "a//b", "/+", "$SYS/#", "a" * 65_535, "+/#"])
def test_valid_filters(value):
    assert validate_filter(value) == value


def test_topic_names_refuse_wildcards():
    with pytest.raises(InvalidTopic, match=r"level 2 \('b\+'\) contains '\+'"):
        validate_topic("a/b+")
    with pytest.raises(InvalidTopic, match="contains '#'"):
        validate_topic("#")
    assert validate_topic("a//b/") == "a//b/"


@pytest.mark.parametrize(
    "topic_filter, topic, expected",
    [
        ("sport/tennis/player1/#", "sport/tennis/player1", True),
        ("sport/tennis/player1/#", "sport/tennis/player1/ranking", True),
        ("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", True),
        ("sport/#", "sport", True),
        ("#", "anything/at/all", True),
        ("sport/tennis/+", "sport/tennis/player1", True),
        ("sport/tennis/+", "sport/tennis/player1/ranking", False),
        ("sport/+", "sport", False),
        ("sport/+", "sport/", True),  # '+' matches one empty level
        ("+/+", "/finance", True),
        ("/+", "/finance", True),
        ("+", "/finance", False),
        ("a//b", "a//b", True),
        ("a/+/b", "a//b", True),
        ("#", "$SYS/broker", False),
        ("+/monitor/Clients", "$SYS/monitor/Clients", False),
        ("$SYS/#", "$SYS/monitor/Clients", True),
        ("$SYS/monitor/+", "$SYS/monitor/Clients", True),
        ("a/b", "a/b/c", False),
        ("a/b/c", "a/b", False),
        ("A/b", "a/b", False),
    ],
)
def test_matches_follows_the_spec(topic_filter, topic, expected):
    assert matches(topic_filter, topic) is expected


# --- Property-based checks against an independent reference ----------------------------

LEVEL = st.sampled_from(["a", "b", "c", "", "$x", "dev-1"])


def reference_matches(topic_filter: str, topic: str) -> bool:
    """An independent reading of §4.7: translate the filter into a regular expression."""
    levels = topic_filter.split("/")
    if topic.startswith("$") and levels[0] in ("+", "#"):
        return False
    parts = []
    for level in levels:
        if level == "#":
            return re.fullmatch(("/".join(parts) + "(/.*)?") if parts else ".*", topic, re.S) is not None
        parts.append("[^/]*" if level == "+" else re.escape(level))
    return re.fullmatch("/".join(parts), topic, re.S) is not None


topics = st.lists(LEVEL, min_size=1, max_size=5).map("/".join).filter(bool)  # "" is no topic


@st.composite
def filters(draw):
    levels = draw(st.lists(st.one_of(LEVEL, st.just("+")), min_size=1, max_size=5))
    if draw(st.booleans()):
        levels = [*levels[: draw(st.integers(0, len(levels)))], "#"]
    return "/".join(levels) or "+"  # "" is no filter


@settings(max_examples=1000)
@given(filters(), topics)
def test_matches_agrees_with_the_reference(topic_filter, topic):
    assert matches(topic_filter, topic) == reference_matches(topic_filter, topic)


def _sample_topics(topic_filter: str) -> list[str]:
    """Topics the filter matches, built by filling its wildcards with sample levels."""
    out = [""]
    for level in topic_filter.split("/"):
        if level == "#":
            out = [t for base in out for t in (base[:-1] if base else base, base + "a", base + "b/c")]
            return [t for t in out if t]
        out = [
            base + choice + "/" for base in out for choice in (["a", "", "$x"] if level == "+" else [level])
        ]
    return [t[:-1] for t in out]


@settings(max_examples=800)
@given(filters(), filters())
def test_covers_is_sound_on_sampled_topics(rule, subscription):
    sampled = [t for t in _sample_topics(subscription) if matches(subscription, t)]
    if covers(rule, subscription):
        assert all(matches(rule, t) for t in sampled), (rule, subscription)
    if any(matches(rule, t) for t in sampled):
        assert intersects(rule, subscription), (rule, subscription)


@pytest.mark.parametrize(
    "rule, subscription, expected",
    [
        ("agents/#", "agents/+/status", True),
        ("agents/a/status", "agents/+/status", False),
        ("a/#", "a", True),
        ("a/+", "a/#", False),
        ("#", "$SYS/#", False),
        ("+/x", "a/x", True),
    ],
)
def test_covers_examples(rule, subscription, expected):
    assert covers(rule, subscription) is expected


# --- ACL semantics (EMQX 5.8: words, no '$' exception) ---------------------------------


@pytest.mark.parametrize(
    "rule, subject, expected",
    [
        ("x/#", "x/#", True),
        ("x/test/nosub", "x/#", False),  # a literal never matches the subscription's '#'
        ("x/+", "x/#", True),  # a rule's '+' matches the word '#'
        ("x/+", "x/+", True),
        ("x/a", "x/+", False),
        ("x/#", "x", True),
        ("#", "$SYS/x", True),
        ("+/x", "$SYS/x", True),
        ("a/+/c", "a//c", True),
        ("a/b", "a/b/c", False),
    ],
)
def test_acl_matches_examples(rule, subject, expected):
    assert acl_matches(rule, subject) is expected


@settings(max_examples=1000)
@given(filters(), filters(), filters())
def test_acl_covers_is_sound(earlier, later, subject):
    if acl_covers(earlier, later) and acl_matches(later, subject):
        assert acl_matches(earlier, subject), (earlier, later, subject)


@settings(max_examples=500)
@given(filters())
def test_every_filter_acl_covers_itself(topic_filter):
    assert acl_covers(topic_filter, topic_filter)
