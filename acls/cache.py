"""Cached effective rules of a user, for the broker hook's hot path.

Keyed by the user's id and ACL revision (a save of the user's ACL moves to a new key);
a change of a rule set deletes the keys of the users it is assigned to. The cache is
Redis when configured, process memory otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.cache import cache

TTL = 3600


def _key(user_id: str, revision: int) -> str:
    return f"acl-rules:v1:{user_id}:{revision}"


def rules_for(user) -> list[tuple[str, str, str]]:
    """The user's effective (permission, action, topic) rules, placeholders unexpanded."""
    from .services import effective_rules

    key = _key(user.pk, user.acl_revision)
    rules = cache.get(key)
    if rules is None:
        rules = [(e.rule.permission, e.rule.action, e.rule.topic) for e in effective_rules(user)]
        cache.set(key, rules, TTL)
    return [tuple(r) for r in rules]


def invalidate(users: Iterable[tuple[str, int]]) -> None:
    """Forget the cached rules of these (user id, ACL revision) pairs."""
    cache.delete_many([_key(user_id, revision) for user_id, revision in users])
