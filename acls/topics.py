"""MQTT topic names and topic filters, as MQTT 3.1.1 / 5 §4.7 specify them.

The single implementation used by the policy, the lint, the simulator, the broker plugin
and the tests. Django-free, so the broker plugin can import it.

- A topic name or filter is UTF-8, 1 to 65,535 bytes, without U+0000.
- In a filter, ``#`` is only ever a whole level and the last one; ``+`` is a whole level.
- Topic names carry no wildcards.
- ``+`` matches exactly one level (which may be empty); ``#`` matches its parent level and
  any number of levels below; a filter whose first level is a wildcard does not match a
  topic starting with ``$``.

``matches``, ``intersects`` and ``covers`` are MQTT's routing semantics (which messages a
subscription receives). ACL rules follow EMQX 5.8's authorization semantics instead
(``acl_matches``, ``acl_covers``): a rule is matched against the words of a topic name or
of a subscription filter, and ``$`` topics have no exception there.
"""

from __future__ import annotations

MAX_BYTES = 65_535


class InvalidTopic(ValueError):
    """A topic name or filter that MQTT does not allow; the message says what and where."""


def _check_text(value: object, what: str) -> list[str]:
    if not isinstance(value, str):
        raise InvalidTopic(f"The {what} must be text, not {type(value).__name__}.")
    if value == "":
        raise InvalidTopic(f"The {what} must not be empty.")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidTopic(f"The {what} is not valid UTF-8 (it contains a lone surrogate).") from None
    if size > MAX_BYTES:
        raise InvalidTopic(f"The {what} is {size:,} bytes long; MQTT allows at most 65,535.")
    levels = value.split("/")
    for number, level in enumerate(levels, 1):
        if "\x00" in level:
            raise InvalidTopic(f"The {what} contains U+0000 (a NUL character) at level {number}.")
    return levels


def validate_topic(name: str) -> str:
    """Return ``name`` if it is a valid topic name (no wildcards), else raise InvalidTopic."""
    for number, level in enumerate(_check_text(name, "topic"), 1):
        for wildcard in "+#":
            if wildcard in level:
                raise InvalidTopic(
                    f"Topic names cannot contain wildcards: level {number} ({level!r}) contains {wildcard!r}."
                )
    return name


def validate_filter(topic_filter: str) -> str:
    """Return ``topic_filter`` if it is a valid topic filter, else raise InvalidTopic."""
    levels = _check_text(topic_filter, "topic filter")
    last = len(levels)
    for number, level in enumerate(levels, 1):
        if "#" in level:
            if level != "#":
                raise InvalidTopic(f"'#' must be a whole level: level {number} is {level!r}.")
            if number != last:
                raise InvalidTopic(f"'#' must be the last level: it is level {number} of {last}.")
        if "+" in level and level != "+":
            raise InvalidTopic(f"'+' must be a whole level: level {number} is {level!r}.")
    return topic_filter


def is_wildcard(level: str) -> bool:
    return level == "+" or level == "#"


def matches(topic_filter: str, topic: str) -> bool:
    """Whether the (valid) filter matches the (valid) topic name, as MQTT routes messages:
    the ACL's word matching, except that a leading wildcard never reaches a '$' topic."""
    if topic.startswith("$") and is_wildcard(topic_filter.split("/", 1)[0]):
        return False
    return acl_matches(topic_filter, topic)


def intersects(a: str, b: str) -> bool:
    """Whether some topic name is matched by both (valid) filters."""
    a_levels, b_levels = a.split("/"), b.split("/")
    # Wildcards in the first level never reach $-topics: a literal $-level on one side
    # against a wildcard on the other shares nothing.
    if (is_wildcard(a_levels[0]) and b_levels[0].startswith("$")) or (
        is_wildcard(b_levels[0]) and a_levels[0].startswith("$")
    ):
        return False
    for i in range(max(len(a_levels), len(b_levels))):
        x = a_levels[i] if i < len(a_levels) else None
        y = b_levels[i] if i < len(b_levels) else None
        if x == "#" or y == "#":
            return True
        if x is None or y is None:
            return False
        if x != "+" and y != "+" and x != y:
            return False
    return True


def covers(rule: str, subscription: str) -> bool:
    """Whether every topic the ``subscription`` filter matches is matched by ``rule``."""
    r_levels, s_levels = rule.split("/"), subscription.split("/")
    if is_wildcard(r_levels[0]) and s_levels[0].startswith("$"):
        return False
    for i, r in enumerate(r_levels):
        if r == "#":
            return True
        if i >= len(s_levels):
            return False  # the subscription matches this shorter topic; the rule does not
        s = s_levels[i]
        if s == "#":
            return False  # the subscription reaches deeper than this rule
        if r != "+" and r != s:
            return False  # a literal rule level against '+' or another literal
    # The rule ended: it covers only topics of exactly its length.
    return len(s_levels) == len(r_levels)


def acl_matches(rule_filter: str, subject: str) -> bool:
    """Whether an ACL rule's (valid) filter matches ``subject``, a topic name or a
    subscription filter read as words, as EMQX 5.8 decides (``emqx_topic:match/2`` on
    words): a rule's ``+`` matches any one word (``+`` and ``#`` included), its ``#`` the
    rest (none included), a literal only the same word; no exception for ``$``."""
    r_levels, s_levels = rule_filter.split("/"), subject.split("/")
    for i, r in enumerate(r_levels):
        if r == "#":
            return True
        if i >= len(s_levels):
            return False
        if r != "+" and r != s_levels[i]:
            return False
    return len(r_levels) == len(s_levels)


def acl_covers(earlier: str, later: str) -> bool:
    """Whether every subject ``later`` acl-matches is acl-matched by ``earlier`` (both valid
    filters): ``earlier`` is ``later`` with some levels generalised to ``+`` or a tail to ``#``."""
    e_levels, l_levels = earlier.split("/"), later.split("/")
    for i, e in enumerate(e_levels):
        if e == "#":
            return True
        if i >= len(l_levels) or l_levels[i] == "#":
            return False  # later reaches words (or depths) this level of earlier does not
        if e != "+" and e != l_levels[i]:
            return False
    return len(e_levels) == len(l_levels)
