"""Cached effective rules of a user, for the broker hook's hot path.

The key is the user's id, ACL revision and rules generation: a save of the user's ACL
moves its revision, a change of a rule set moves the generation of every user it is
assigned to (``acls.services``). A key's value therefore never changes, so a small
process-local map in front of the shared cache (Redis when configured, process memory
otherwise) needs no invalidation, and the hot path usually makes no round trip at all.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from django.core.cache import cache

from .policy import validate_rule

TTL = 3600
LOCAL_SIZE = 10_000

Rules = tuple[tuple[str, str, str], ...]
_local: OrderedDict[str, Rules] = OrderedDict()
_local_lock = threading.Lock()


def _key(user) -> str:
    return f"acl-rules:v2:{user.pk}:{user.acl_revision}:{user.rules_generation}"


def rules_for(user) -> Rules:  # an MqttUser, or users.connect.LoadedUser
    """The user's effective (permission, action, topic) rules, validated, placeholders unexpanded."""
    key = _key(user)
    rules = _local.get(key)
    if rules is not None:
        return rules
    from users.models import MqttUser

    from .services import effective_rules

    cached = cache.get(key)
    if cached is None:
        if not isinstance(user, MqttUser):  # the broker's row of the user: its id is enough
            user = MqttUser(id=user.pk, org_id=user.org_id)
        cached = [(e.rule.permission, e.rule.action, e.rule.topic) for e in effective_rules(user)]
        cache.set(key, cached, TTL)
    # Validated once per key here, so the hot path only expands placeholders.
    rules = tuple(tuple(r) for r in cached)
    for rule in rules:
        validate_rule(rule)
    with _local_lock:
        _local[key] = rules
        if len(_local) > LOCAL_SIZE:
            _local.popitem(last=False)
    return rules
