"""Actions on several MQTT users or tokens at once (the lists' checkboxes): all of the
selection or none of it. Each user or token goes through its own service, so each change is
audited and reaches the broker as it would one by one."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.services import Actor

from . import services
from .models import MqttUser, TempToken
from .tokens import tokens_revoke

MAX_SELECTED = 100  # a page of a list holds fewer; more is not a person clicking


def selected(qs, values: list[str], *, field: str, what: str) -> list:
    """The rows of ``qs`` whose ``field`` is one of ``values``, in that order; ValidationError
    when the selection is empty, too long, or names one that ``qs`` does not hold (another
    org's, or gone since the page was shown)."""
    values = list(dict.fromkeys(v for v in values if v))
    if not values:
        raise ValidationError(f"Select at least one {what} first.")
    if len(values) > MAX_SELECTED:
        raise ValidationError(f"Select at most {MAX_SELECTED} at a time.")
    found = {getattr(row, field): row for row in qs.filter(**{f"{field}__in": values})}
    missing = [v for v in values if v not in found]
    if missing:
        raise ValidationError(
            f"No {what} {', '.join(missing[:5])}{'…' if len(missing) > 5 else ''} here any more; "
            "reload the list. Nothing was changed."
        )
    return [found[v] for v in values]


@transaction.atomic
def users_set_enabled(*, users: list[MqttUser], enabled: bool, actor: Actor, request=None) -> int:
    """Enable or disable each; returns how many changed (the others already were)."""
    changed = [u for u in users if u.enabled != enabled]
    for user in changed:
        services.user_update(user=user, enabled=enabled, actor=actor, request=request)
    return len(changed)


@transaction.atomic
def users_delete(*, users: list[MqttUser], actor: Actor, request=None) -> int:
    for user in users:
        services.user_delete(user=user, actor=actor, request=request)
    return len(users)


@transaction.atomic
def tokens_revoke_selected(*, tokens: list[TempToken], actor: Actor, request=None) -> int:
    return tokens_revoke(
        tokens=TempToken.objects.filter(pk__in=[t.pk for t in tokens]), actor=actor, request=request
    )
