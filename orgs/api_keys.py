"""API keys: creation (revealed once), revocation and authentication of API calls."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import Action, ActorType, SubjectType
from audit.services import Actor, Subject, record_event
from core import credentials
from core.api import Scope

from .models import ApiKey, Organization

# last_used_at is written at most this often per key, not on every call.
LAST_USED_RESOLUTION = timedelta(seconds=60)


def api_key_actor(key: ApiKey) -> Actor:
    return Actor(ActorType.API_KEY, key.id, f"API key {key.name}")


def _subject(key: ApiKey) -> Subject:
    return Subject(SubjectType.API_KEY, key.id, key.name)


@transaction.atomic
def api_key_create(
    *, org: Organization, name: str, scopes: list[str], actor: Actor, request=None
) -> tuple[ApiKey, str]:
    """Create a key; returns it and the full ``sk_...`` value, which is never shown again."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": "Give the key a name of 1 to 100 characters."})
    scopes = sorted(set(scopes or []))
    unknown = [s for s in scopes if s not in Scope.values]
    if unknown or not scopes:
        raise ValidationError(
            {
                "scopes": f"Choose at least one scope among {', '.join(Scope.values)}."
                + (f" Unknown: {', '.join(unknown)}." if unknown else "")
            }
        )
    value = credentials.new_prefixed(credentials.API_KEY_PREFIX)
    key = ApiKey.objects.create(
        id=value.id,
        org=org,
        name=name,
        scopes=scopes,
        secret_digest=credentials.digest(value.secret),
        created_by=actor.label,
    )
    record_event(
        org,
        Action.API_KEY_CREATED,
        actor=actor,
        subject=_subject(key),
        request=request,
        after={"name": name, "scopes": scopes},
    )
    return key, str(value)


@transaction.atomic
def api_key_revoke(*, key: ApiKey, actor: Actor, request=None) -> ApiKey:
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at:
        return key
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    record_event(key.org, Action.API_KEY_REVOKED, actor=actor, subject=_subject(key), request=request)
    return key


def api_key_authenticate(value: str) -> ApiKey | None:
    """The active key that ``value`` is, or None: one indexed lookup, constant-time compare."""
    parsed = credentials.parse_prefixed(value, credentials.API_KEY_PREFIX)
    if parsed is None:
        return None
    key = ApiKey.objects.select_related("org").filter(pk=parsed.id).first()
    if key is None or key.revoked_at or not credentials.verify(parsed.secret, key.secret_digest):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
