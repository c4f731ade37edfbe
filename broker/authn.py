"""The broker's authentication and authorization checks (DESIGN §6, EMQX 5 HTTP shapes).

A refusal tells the broker ``deny`` and nothing more; the reason goes to the audit log.
Every authentication is audited (success or failure, peer address, client id, transport).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from acls import cache as acl_cache
from acls.policy import compile_policy, expand
from audit import writer
from audit.models import Action, ActorType, Outcome, SubjectType
from audit.services import Actor, Subject, event_values
from core import credentials
from core.client_ip import normal_ip
from core.text import CONTROL, shown
from orgs.models import ORG_ID_PATTERN
from users import connect
from users.connect import LoadedUser
from users.models import MqttUser, TokenStatus
from users.services import verify_user_secret

USERNAME = re.compile(rf"(?P<name>[a-z0-9._-]{{1,64}})@(?P<org>{ORG_ID_PATTERN})")
CATCH_ALL_DENY = {"permission": "deny", "action": "all", "topic": "#"}
DENY = {"result": "deny"}


@dataclass
class Attempt:
    username: str
    password: str
    client_id: str
    peer_ip: str | None
    transport: str
    proto_ver: str
    # A live connection re-authenticating on an ACL refresh: it already counts in the
    # org's live connections, so the connection quota does not apply to it again.
    reauth: bool = False

    @classmethod
    def from_payload(cls, data: dict) -> Attempt:
        def text(key: str) -> str:
            value = data.get(key)
            return "" if value is None else str(value)

        peer = text("peerhost") or None
        return cls(
            text("username"),
            text("password"),
            text("clientid"),
            peer,
            text("transport"),
            text("proto_ver"),
            reauth=data.get("reauth") is True,
        )


def compiled_acl(user: LoadedUser | MqttUser, client_id: str) -> list[dict]:
    """The ``acl`` of the user's authn answer for this client (see ``acl_answer``)."""
    return acl_answer(acl_cache.rules_for(user), org_id=user.org_id, name=user.name, client_id=client_id)


def acl_answer(rules, *, org_id: str, name: str, client_id: str) -> list[dict]:
    """(permission, action, topic) rules as the EMQX-shaped ``acl`` a broker enforces: the
    org namespace prefixed, placeholders expanded for this client, rules that match nothing
    left out, ending in a catch-all deny. The broker decides on it exactly as
    ``acls.policy`` decides on the rules (tests/test_acl_differential.py)."""
    prefix = f"{org_id}/"
    acl = []
    for permission, action, topic in rules:  # validated when cached
        expanded = expand(topic, username=name, client_id=client_id or None)
        if expanded is not None:
            acl.append({"permission": permission, "action": action, "topic": prefix + expanded})
    acl.append(CATCH_ALL_DENY)
    return acl


# last_seen_at is written at most this often per user: a reconnect storm must not turn
# into a storm of row updates.
LAST_SEEN_RESOLUTION = timedelta(seconds=60)


def authenticate(attempt: Attempt) -> dict:
    """Answer the broker's authentication request; audit it either way.

    The audit event goes through the batched writer (audit.writer): a CONNECT costs one
    prepared query, not an insert and a commit behind the org's chain lock.
    """
    peer_ip = normal_ip(attempt.peer_ip)
    match = USERNAME.fullmatch(attempt.username)
    if match is None:
        return _refuse(None, attempt, peer_ip, "malformed_username")
    if CONTROL.search(attempt.client_id):
        return _refuse(match["org"], attempt, peer_ip, "bad_client_id")
    is_token = attempt.password.startswith(credentials.TOKEN_PREFIX + "_")
    parsed = credentials.parse_prefixed(attempt.password, credentials.TOKEN_PREFIX) if is_token else None
    loaded = connect.load(match["org"], match["name"], parsed.id if parsed else None)
    if loaded is None:
        return _refuse(None, attempt, peer_ip, "unknown_org")
    if loaded.user is None:
        return _refuse(match["org"], attempt, peer_ip, "unknown_user")
    user = loaded.user
    org = user.org_id
    token = None
    if is_token:
        token = loaded.token if parsed and loaded.token and loaded.token.matches(parsed) else None
        if token is None:
            return _refuse(org, attempt, peer_ip, "bad_token", user=user)
        if token.status != TokenStatus.ACTIVE:
            return _refuse(org, attempt, peer_ip, f"token_{token.status}", user=user)
    elif not verify_user_secret(user, attempt.password):
        return _refuse(org, attempt, peer_ip, "bad_secret", user=user)
    if not user.enabled:
        return _refuse(org, attempt, peer_ip, "user_disabled", user=user)
    if not attempt.reauth and loaded.live_connections >= loaded.max_connections:
        return _refuse(org, attempt, peer_ip, "connection_quota", user=user)
    now = timezone.now()
    if user.last_seen_at is None or now - user.last_seen_at > LAST_SEEN_RESOLUTION:
        MqttUser.objects.filter(pk=user.pk).update(last_seen_at=now)
    _audit(org, attempt, peer_ip, Outcome.SUCCESS, "token" if token else "secret", user=user, token=token)
    answer = {
        "result": "allow",
        "is_superuser": False,
        "client_attrs": {"org": user.org_id},
        "acl": compiled_acl(user, attempt.client_id),
    }
    if token is not None:
        # Whole seconds (EMQX's unit); tokens expire on a whole second, so this is exact.
        answer["expire_at"] = math.ceil(token.expires_at.timestamp())
    return answer


def _refuse(
    org: str | None, attempt: Attempt, peer_ip, reason: str, *, user: LoadedUser | None = None
) -> dict:
    if org is not None:  # an attempt naming no org of ours has no audit log to go to
        _audit(org, attempt, peer_ip, Outcome.FAILURE, reason, user=user)
    return DENY


def _audit(org: str, attempt: Attempt, peer_ip, outcome: str, reason: str, *, user=None, token=None) -> None:
    action = Action.AUTH_SUCCESS if outcome == Outcome.SUCCESS else Action.AUTH_FAILURE
    actor = Actor(ActorType.MQTT_USER, user.pk if user else "", attempt.username[:254])
    details = {
        "reason": reason,
        "client_id": shown(attempt.client_id)[:256],
        "transport": attempt.transport[:16],
        "proto_ver": attempt.proto_ver[:8],
    }
    if token is not None:
        details["token_id"] = token.id
    writer.submit(
        event_values(
            org,
            action,
            actor=actor,
            subject=Subject(SubjectType.MQTT_USER, user.pk if user else "", attempt.username[:254]),
            peer_ip=peer_ip,
            outcome=outcome,
            details=details,
        )
    )


def authorize(data: dict) -> dict:
    """The per-check fallback: {username, clientid, topic, action} → allow or deny."""
    match = USERNAME.fullmatch(str(data.get("username") or ""))
    topic, action = str(data.get("topic") or ""), str(data.get("action") or "")
    if match is None or action not in ("publish", "subscribe"):
        return DENY
    user = MqttUser.objects.filter(org_id=match["org"], name=match["name"], enabled=True).first()
    prefix = f"{match['org']}/"
    if user is None or not topic.startswith(prefix):
        return DENY
    policy = compile_policy(
        acl_cache.rules_for(user), username=user.name, client_id=str(data.get("clientid") or "") or None
    )
    return {"result": "allow" if policy.decide(action, topic[len(prefix) :]).allowed else "deny"}
