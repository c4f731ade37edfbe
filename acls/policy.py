"""Compiled ACL policies: first matching rule decides, no match denies.

``compile_policy(rules, username=..., client_id=...)`` expands the placeholders ``%u`` (the
user's name) and ``%c`` (the client id) and builds one level trie per action, so a
decision walks the topic's levels instead of the rule list: its cost does not grow with
the number of rules. Each trie node knows the smallest rule index below it, so the walk
stops as soon as no earlier rule can be found.

The semantics are EMQX 5.8's authorization rules, which the default broker's evaluator
(``broker/node/src/acl.js``) implements too; ``tests/test_acl_differential.py`` proves
the two decide every generated case alike (see ``topics.acl_matches``):

- PUBLISH to a topic: the first rule whose filter matches the topic decides.
- SUBSCRIBE to a filter S: the first rule whose filter matches S read as a topic name
  whose ``+`` and ``#`` levels are plain words decides. So ``deny subscribe x/secret``
  before ``allow all x/#`` does not refuse ``x/#`` (EMQX grants it); the broker still
  delivers no message on ``x/secret``, since each delivery is checked as a subscribe to
  its topic name.
- No exception for ``$`` topics: rules are relative to the org namespace, so a relative
  ``$SYS/x`` is the ordinary topic ``<org_id>/$SYS/x``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .topics import InvalidTopic, validate_filter, validate_topic

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

    ``reason`` is ``"rule"``, ``"default"`` (nothing matched) or ``"invalid"`` (not a valid
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
    """The filter with placeholders replaced (in one pass: a client id "%u" stays "%u"), or
    None when the rule must match nothing: a value that is missing, empty, or holds '/',
    '+' or '#' (no injected wildcard) or "${" (EMQX would render it as a placeholder of its
    own, and the rule would then mean something else than the simulator says)."""
    if "%" not in topic:
        return topic
    values = {"%u": username, "%c": client_id}

    def replace(match: re.Match) -> str:
        value = values.get(match.group(0))
        if not value or any(ch in value for ch in "/+#") or "${" in value:
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

    def first_match(self, levels: list[str]) -> int:
        """Smallest index of a rule whose filter matches ``levels``: a topic name's, or a
        subscription filter's read as words (its '+' and '#' levels are reached only by a
        rule's '+' or '#', as in EMQX's ``emqx_topic:match/2`` on words)."""
        best = _NEVER
        n = len(levels)
        stack = [(self.root, 0)]
        while stack:
            node, i = stack.pop()
            if node.low >= best:
                continue
            if node.hash < best:
                best = node.hash
            if i == n:
                if node.end < best:
                    best = node.end
                continue
            child = node.lit.get(levels[i])
            if child is not None and child.low < best:
                stack.append((child, i + 1))
            if node.plus is not None and node.plus.low < best:
                stack.append((node.plus, i + 1))
        return best


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
        if action not in self._tries:
            raise ValueError(f"Unknown action {action!r}: use publish or subscribe.")
        try:
            (validate_topic if action == "publish" else validate_filter)(topic)
        except InvalidTopic:
            return INVALID
        index = self._tries[action].first_match(topic.split("/"))
        return DEFAULT_DENY if index == _NEVER else self._by_index[index]


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
