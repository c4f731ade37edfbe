"""Compiled ACL policies: first matching rule decides, no match denies.

``compile_policy(rules, username=..., client_id=...)`` expands the placeholders ``%u`` (the
user's name) and ``%c`` (the client id) and builds one level trie per action, so a
decision walks the topic's levels instead of the rule list: its cost does not grow with
the number of rules. Each trie node knows the smallest rule index below it, so the walk
stops as soon as no earlier rule can be found.

- PUBLISH to a topic: the first rule whose filter matches the topic decides.
- SUBSCRIBE to a filter S: the first rule whose filter intersects S (some topic is matched
  by both) decides; an allow must also cover S (every topic S matches), otherwise the
  subscription is denied as broader than granted.

Django-free, so the broker plugin can import it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .topics import InvalidTopic, covers, validate_filter, validate_topic

PERMISSIONS = ("allow", "deny")
ACTIONS = ("publish", "subscribe", "all")
PLACEHOLDERS = {"%u": "username", "%c": "client_id"}
_PLACEHOLDER = re.compile(r"%.")
_NEVER = 1 << 62  # "no rule": larger than any index


@dataclass(frozen=True)
class Rule:
    permission: str
    action: str
    topic: str


@dataclass(frozen=True)
class Decision:
    """The outcome of one check: ``rule_index`` is the deciding rule, None for the default deny.

    ``reason`` is ``"rule"``, ``"default"`` (nothing matched), ``"broader_than_granted"``
    (an allow that does not cover the whole subscription) or ``"invalid"`` (not a valid
    topic or filter).
    """

    allowed: bool
    rule_index: int | None
    reason: str


DEFAULT_DENY = Decision(False, None, "default")
INVALID = Decision(False, None, "invalid")


def as_rule(rule) -> Rule:
    """A Rule from an object with permission/action/topic attributes or a 3-tuple."""
    if isinstance(rule, Rule):
        return rule
    if isinstance(rule, tuple | list):
        permission, action, topic = rule
    else:
        permission, action, topic = rule.permission, rule.action, rule.topic
    return Rule(permission, action, topic)


def validate_rule(rule) -> Rule:
    """Check one rule as written (placeholders unexpanded); raise ValueError saying why."""
    r = as_rule(rule)
    if r.permission not in PERMISSIONS:
        raise ValueError(f"Unknown permission {r.permission!r}: use allow or deny.")
    if r.action not in ACTIONS:
        raise ValueError(f"Unknown action {r.action!r}: use publish, subscribe or all.")
    validate_filter(r.topic)
    for placeholder in _PLACEHOLDER.findall(r.topic):
        if placeholder not in PLACEHOLDERS:
            raise InvalidTopic(f"Unknown placeholder {placeholder!r}: use %u (user name) or %c (client id).")
    return r


def expand(topic: str, *, username: str, client_id: str | None) -> str | None:
    """The filter with placeholders replaced, or None when the rule must match nothing:
    a value that is missing, empty, or holds '/', '+' or '#' (no injected wildcard)."""
    if "%" not in topic:
        return topic
    values = {"%u": username, "%c": client_id}

    def replace(match: re.Match) -> str:
        value = values.get(match.group(0))
        if not value or any(ch in value for ch in "/+#"):
            raise _NoMatch
        return value

    try:
        return _PLACEHOLDER.sub(replace, topic)
    except _NoMatch:
        return None


class _NoMatch(Exception):
    pass


class _Node:
    __slots__ = ("lit", "plus", "end", "hash", "low")

    def __init__(self) -> None:
        self.lit: dict[str, _Node] = {}
        self.plus: _Node | None = None
        self.end = _NEVER  # first rule whose filter ends exactly here
        self.hash = _NEVER  # first rule whose filter ends with '#' here
        self.low = _NEVER  # first rule anywhere in this subtree (for pruning)


class _Trie:
    def __init__(self) -> None:
        self.root = _Node()

    def add(self, levels: Sequence[str], index: int) -> None:
        node = self.root
        node.low = min(node.low, index)
        for level in levels:
            if level == "#":
                node.hash = min(node.hash, index)
                return
            if level == "+":
                if node.plus is None:
                    node.plus = _Node()
                node = node.plus
            else:
                node = node.lit.setdefault(level, _Node())
            node.low = min(node.low, index)
        node.end = min(node.end, index)

    def first_match(self, levels: list[str], dollar: bool) -> int:
        """Smallest index of a rule whose filter matches the topic ``levels``."""
        best = _NEVER
        n = len(levels)
        stack = [(self.root, 0)]
        while stack:
            node, i = stack.pop()
            if node.low >= best:
                continue
            if node.hash < best and not (dollar and i == 0):
                best = node.hash
            if i == n:
                if node.end < best:
                    best = node.end
                continue
            child = node.lit.get(levels[i])
            if child is not None and child.low < best:
                stack.append((child, i + 1))
            if node.plus is not None and node.plus.low < best and not (dollar and i == 0):
                stack.append((node.plus, i + 1))
        return best

    def first_intersecting(self, levels: list[str]) -> int:
        """Smallest index of a rule whose filter intersects the filter ``levels``."""
        best = _NEVER
        n = len(levels)
        s_dollar = levels[0].startswith("$")
        stack = [(self.root, 0)]
        while stack:
            node, i = stack.pop()
            if node.low >= best:
                continue
            if node.hash < best and not (i == 0 and s_dollar):
                best = node.hash
            if i == n:
                if node.end < best:
                    best = node.end
                continue
            s = levels[i]
            if s == "#":
                # Any rule below intersects, except $-rules against a first-level '#'.
                best = min(best, self._low_below(node, skip_dollar=(i == 0)))
                continue
            if s == "+":
                for key, child in node.lit.items():
                    if child.low < best and not (i == 0 and key.startswith("$")):
                        stack.append((child, i + 1))
            else:
                child = node.lit.get(s)
                if child is not None and child.low < best:
                    stack.append((child, i + 1))
            if node.plus is not None and node.plus.low < best and not (i == 0 and s_dollar):
                stack.append((node.plus, i + 1))
        return best

    @staticmethod
    def _low_below(node: _Node, *, skip_dollar: bool) -> int:
        low = min(node.end, node.hash)
        if node.plus is not None:
            low = min(low, node.plus.low)
        for key, child in node.lit.items():
            if not (skip_dollar and key.startswith("$")):
                low = min(low, child.low)
        return low


class Policy:
    """A compiled list of rules for one user and client. Immutable once built."""

    def __init__(self, rules: list[Rule], expanded: list[str | None]) -> None:
        self.rules = rules
        self.expanded = expanded  # each rule's filter after placeholders; None: matches nothing
        self._tries = {"publish": _Trie(), "subscribe": _Trie()}
        for index, (rule, topic) in enumerate(zip(rules, expanded, strict=True)):
            if topic is None:
                continue
            levels = topic.split("/")
            for action in ("publish", "subscribe"):
                if rule.action in (action, "all"):
                    self._tries[action].add(levels, index)
        self._by_index = [
            Decision(rule.permission == "allow", index, "rule") for index, rule in enumerate(rules)
        ]

    def decide(self, action: str, topic: str) -> Decision:
        """Decide a PUBLISH to a topic name or a SUBSCRIBE to a topic filter."""
        if action == "publish":
            try:
                validate_topic(topic)
            except InvalidTopic:
                return INVALID
            index = self._tries["publish"].first_match(topic.split("/"), topic.startswith("$"))
            return DEFAULT_DENY if index == _NEVER else self._by_index[index]
        if action == "subscribe":
            try:
                validate_filter(topic)
            except InvalidTopic:
                return INVALID
            index = self._tries["subscribe"].first_intersecting(topic.split("/"))
            if index == _NEVER:
                return DEFAULT_DENY
            decision = self._by_index[index]
            if decision.allowed and not covers(self.expanded[index], topic):
                return Decision(False, index, "broader_than_granted")
            return decision
        raise ValueError(f"Unknown action {action!r}: use publish or subscribe.")


def compile_policy(rules: Iterable, *, username: str, client_id: str | None = None) -> Policy:
    """Validate and compile ``rules`` (Rule objects, objects with the three attributes, or
    ``(permission, action, topic)`` tuples) for one user and client id."""
    checked: list[Rule] = []
    for index, rule in enumerate(rules):
        try:
            checked.append(validate_rule(rule))
        except ValueError as error:
            raise type(error)(f"Rule {index}: {error}") from None
    expanded = [expand(r.topic, username=username, client_id=client_id) for r in checked]
    return Policy(checked, expanded)
