"""Temporary tokens: mint (revealed once), revoke, expire, and verify.

A token is ``cst_<id>_<secret>``; the client connects with its user's username and the
token as password. Expiry is enforced twice: a token past ``expires_at`` never
authenticates, and a Celery job at ``expires_at`` (plus a sweep every minute for any it
missed) marks it expired, audits it and asks the broker to drop its sessions.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import Action, SubjectType
from audit.services import Actor, Subject, record_event
from core import credentials
from core.errors import Conflict
from orgs.models import Organization
from sessions.revocations import emit_disconnect

from .models import MqttUser, TempToken, TokenStatus

SWEEP_BATCH = 1000


def _subject(token: TempToken) -> Subject:
    return Subject(SubjectType.TOKEN, token.id, f"{token.display_prefix} of {token.user.username}")


def min_ttl() -> int:
    return settings.TOKEN_MIN_TTL


def allowed_ttl_message(org: Organization) -> str:
    return (
        f"ttl_seconds must be between {min_ttl()} and {org.token_ttl_max} seconds "
        "(this organization's maximum)."
    )


@transaction.atomic
def token_mint(
    *,
    org: Organization,
    user: MqttUser,
    ttl_seconds: int | None = None,
    label: str = "",
    actor: Actor,
    request=None,
) -> tuple[TempToken, str]:
    """Mint a token for an enabled user of ``org``; returns it and the ``cst_...`` value."""
    if user.org_id != org.id:  # callers resolve users within the org; this is the backstop
        raise ValidationError({"user": "No such MQTT user in this organization."})
    if not user.enabled:
        raise Conflict({"user": f"{user.username} is disabled: enable it before minting tokens for it."})
    ttl = org.token_ttl_default if ttl_seconds is None else ttl_seconds
    if not isinstance(ttl, int) or isinstance(ttl, bool) or not min_ttl() <= ttl <= org.token_ttl_max:
        raise ValidationError({"ttl_seconds": allowed_ttl_message(org)})
    label = (label or "").strip()
    if len(label) > 100:
        raise ValidationError({"label": "Keep the label under 100 characters."})
    value = credentials.new_prefixed(credentials.TOKEN_PREFIX)
    # A whole second: brokers take expire_at in Unix seconds (EMQX's format), so a session
    # then ends exactly when its token does.
    now = timezone.now().replace(microsecond=0)
    token = TempToken.objects.create(
        id=value.id,
        org=org,
        user=user,
        label=label,
        secret_digest=credentials.digest(value.secret),
        created_at=now,
        expires_at=now + timedelta(seconds=ttl),
        minted_by_type=actor.type,
        minted_by_id=actor.id,
        minted_by_label=actor.label,
    )
    record_event(
        org,
        Action.TOKEN_MINTED,
        actor=actor,
        subject=_subject(token),
        request=request,
        details={"ttl_seconds": ttl, "label": label, "expires_at": token.expires_at.isoformat()},
    )
    from .tasks import expire_token

    transaction.on_commit(lambda: expire_token.apply_async(args=[token.id], eta=token.expires_at))
    return token, str(value)


@transaction.atomic
def token_revoke(*, token: TempToken, actor: Actor, request=None) -> TempToken:
    """Revoke a token and drop its sessions. Revoking a revoked token changes nothing."""
    token = TempToken.objects.select_for_update(of=("self",)).select_related("user", "org").get(pk=token.pk)
    status = token.status
    if status == TokenStatus.REVOKED:
        return token
    if status == TokenStatus.EXPIRED:
        raise Conflict(f"{token.display_prefix} has already expired; there is nothing to revoke.")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record_event(token.org, Action.TOKEN_REVOKED, actor=actor, subject=_subject(token), request=request)
    emit_disconnect(org=token.org, username=token.user.username, token_id=token.id, reason="token_revoked")
    return token


@transaction.atomic
def token_expire(token_id: str) -> bool:
    """Mark a token past its expiry as expired, audit it and drop its sessions.

    Idempotent: True only for the call that marked it. A token revoked, already marked, or
    not yet due is left alone.
    """
    now = timezone.now()
    marked = TempToken.objects.filter(
        pk=token_id, expired_at__isnull=True, revoked_at__isnull=True, expires_at__lte=now
    ).update(expired_at=now)
    if not marked:
        return False
    token = TempToken.objects.select_related("user", "org").get(pk=token_id)
    record_event(
        token.org,
        Action.TOKEN_EXPIRED,
        actor=Actor.system("token expiry"),
        subject=_subject(token),
        details={"expires_at": token.expires_at.isoformat()},
    )
    emit_disconnect(org=token.org, username=token.user.username, token_id=token.id, reason="token_expired")
    return True


def sweep_expired_tokens(limit: int = SWEEP_BATCH) -> int:
    """Expire tokens past due that their own job missed; returns how many it marked."""
    due = TempToken.objects.filter(
        expired_at__isnull=True, revoked_at__isnull=True, expires_at__lte=timezone.now()
    ).values_list("pk", flat=True)[:limit]
    return sum(token_expire(token_id) for token_id in list(due))


@transaction.atomic
def tokens_revoke(*, tokens, actor: Actor, request=None) -> int:
    """Revoke the active ones among ``tokens`` (each audited, its sessions dropped); returns
    how many were revoked. Expired and revoked ones are left as they are."""
    active = list(tokens.with_status(TokenStatus.ACTIVE).select_for_update().order_by("pk"))
    for token in active:
        token_revoke(token=token, actor=actor, request=request)
    return len(active)
