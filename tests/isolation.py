"""The tenant-isolation harness: every org URL of the project, and how to build it.

``ORG_URL_CASES`` maps each URL name that takes an ``org_id`` to a function that returns
the other URL kwargs for objects of a given org. ``org_url_names`` walks the URL
configuration, so a new org URL without a case makes ``test_every_org_url_is_covered``
fail: new features are covered by construction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from django.urls import URLPattern, URLResolver, get_resolver

from orgs.tenancy import ORG_URL_KWARG

Kwargs = Callable[["OrgWorld"], dict]  # noqa: F821 (conftest.OrgWorld)


def _none(world) -> dict:
    return {}


def _admin_membership(world) -> dict:
    return {"member_id": world.membership(world.admin).pk}


def _mqtt_user(world) -> dict:
    return {"name": world.mqtt_user.name}


def _token(world) -> dict:
    return {"token_id": world.token.id}


def _invitation(world) -> dict:
    return {"invitation_id": world.invitation.id}


def _api_key(world) -> dict:
    return {"key_id": world.api_key.id}


def _rule_set(world) -> dict:
    return {"name": world.rule_set.name}


def _rule_set_revision(world) -> dict:
    return {"name": world.rule_set.name, "number": 1}


def _user_revision(world) -> dict:
    return {"name": world.mqtt_user_with_acl.name, "number": 1}


def _alert(world) -> dict:
    return {"alert_id": world.alert.pk}


def _session(world) -> dict:
    return {"session_id": world.session.pk}


def _audit_event(world) -> dict:
    return {"seq": world.audit_event.seq}


ORG_URL_CASES: dict[str, Kwargs] = {
    "detection:overview": _none,
    "search": _none,
    "detection:ca": _none,
    "orgs:settings": _none,
    "orgs:members": _none,
    "orgs:member_role": _admin_membership,
    "orgs:member_remove": _admin_membership,
    "orgs:invitation_withdraw": _invitation,
    "orgs:sso": _none,
    "orgs:sso_remove": _none,
    "orgs:api_keys": _none,
    "orgs:api_key_create": _none,
    "orgs:api_key_revoke": _api_key,
    "audit:log": _none,
    "audit:export_csv": _none,
    "audit:export_jsonl": _none,
    "users:list": _none,
    "users:create": _none,
    "users:bulk": _none,
    "users:detail": _mqtt_user,
    "users:rotate": _mqtt_user,
    "users:update": _mqtt_user,
    "users:delete": _mqtt_user,
    "tokens:list": _none,
    "tokens:mint": _none,
    "tokens:bulk_revoke": _none,
    "tokens:revoke": _token,
    "acls:index": _none,
    "acls:simulator": _none,
    "acls:bulk_assign": _none,
    "acls:rule_set_create": _none,
    "acls:rule_set": _rule_set,
    "acls:rule_set_edit": _rule_set,
    "acls:rule_set_delete": _rule_set,
    "acls:rule_set_history": _rule_set,
    "acls:rule_set_rollback": _rule_set_revision,
    "acls:user": _mqtt_user,
    "acls:user_snippet_note": _mqtt_user,
    "acls:user_edit": _mqtt_user,
    "acls:user_history": _mqtt_user,
    "acls:user_rollback": _user_revision,
    "sessions:list": _none,
    "sessions:disconnect": _none,
    "sessions:detail": _session,
    "alerts:list": _none,
    "alerts:detail": _alert,
    "alerts:acknowledge": _alert,
    "alerts:resolve": _alert,
    "alerts:respond": _alert,
    "audit:detail": _audit_event,
    "audit:verify": _none,
    "detection:settings": _none,
    "detection:webhook_test": _none,
}

# URLs whose object identifier is per org (an audit event's place in its org's chain): org
# B's identifier in org A's URL names org A's own object, so there is no "another org's id"
# to try; a member of B still gets 404 for the URL of A's object like for every other URL.
PER_ORG_IDENTIFIERS = {"audit:detail"}

METHODS = ("get", "post", "put", "patch", "delete")


def _walk(patterns, namespace: str, converters: frozenset) -> Iterator[tuple[str, frozenset]]:
    # The names are read from each route's text: Django's resolver, once populated, adds a
    # parent's converters to the dict its route cache shares between equal routes (every
    # ``path("", include(...))``), so ``pattern.converters`` can name a parent's org_id.
    for p in patterns:
        names = converters | frozenset(re.findall(r"<(?:\w+:)?(\w+)>", str(p.pattern)))
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, ns, names)
        elif isinstance(p, URLPattern):
            yield (f"{namespace}{p.name}" if p.name else f"{namespace}<unnamed {p.pattern}>", names)


def org_url_names(urlconf: str | None = None) -> set[str]:
    """Names of every URL pattern whose path carries an org id."""
    resolver = get_resolver(urlconf)
    return {name for name, conv in _walk(resolver.url_patterns, "", frozenset()) if ORG_URL_KWARG in conv}


def uncovered_org_urls(urlconf: str | None = None) -> set[str]:
    return org_url_names(urlconf) - set(ORG_URL_CASES)
