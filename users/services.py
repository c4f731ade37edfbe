"""Writes of MQTT users: create, update, rotate, delete. Each validates, saves, audits and
emits what the broker must act on, in one transaction. Secrets are returned once and
never stored, logged or audited in clear."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import Action, SubjectType
from audit.services import Actor, Subject, changed_fields, record_event
from core import credentials
from core.errors import Conflict
from orgs.models import Organization
from sessions.revocations import emit_disconnect

from .models import ROTATION_GRACE_CHOICES, MqttUser, name_validator

GRACE_SECONDS = [seconds for seconds, _ in ROTATION_GRACE_CHOICES]


def user_subject(user: MqttUser) -> Subject:
    return Subject(SubjectType.MQTT_USER, user.id, user.username)


def validate_name(name: str) -> str:
    name = (name or "").strip()
    try:
        name_validator(name)
    except ValidationError as error:
        raise ValidationError({"name": f"{name!r} is not a valid name. {error.messages[0]}"}) from None
    return name


@transaction.atomic
def user_create(
    *, org: Organization, name: str, description: str = "", actor: Actor, request=None
) -> tuple[MqttUser, str]:
    """Create an MQTT user; returns it and its permanent secret (shown once)."""
    name = validate_name(name)
    if len(description or "") > 500:
        raise ValidationError({"description": "Keep the description under 500 characters."})
    # Lock the org so two concurrent creations cannot both pass the quota check.
    org = Organization.objects.select_for_update().get(pk=org.pk)
    if MqttUser.objects.filter(org=org, name=name).exists():
        raise Conflict({"name": f"An MQTT user named {name!r} already exists in this organization."})
    count = MqttUser.objects.filter(org=org).count()
    if count >= org.max_mqtt_users:
        raise Conflict(
            f"This organization has reached its limit of {org.max_mqtt_users} MQTT users. "
            "Delete unused users, or ask an owner to raise the limit in Settings."
        )
    secret = credentials.new_secret()
    try:
        with transaction.atomic():
            user = MqttUser.objects.create(
                org=org,
                name=name,
                description=description or "",
                created_by=actor.label,
                secret_digest=credentials.digest(secret),
            )
    except IntegrityError:
        raise Conflict(
            {"name": f"An MQTT user named {name!r} already exists in this organization."}
        ) from None
    record_event(
        org,
        Action.MQTT_USER_CREATED,
        actor=actor,
        subject=user_subject(user),
        request=request,
        after=user.snapshot(),
    )
    return user, secret


@transaction.atomic
def user_update(
    *, user: MqttUser, actor: Actor, request=None, description: str | None = None, enabled: bool | None = None
) -> MqttUser:
    """Change the description and/or enable or disable; disabling drops live sessions."""
    user = MqttUser.objects.select_for_update(of=("self",)).select_related("org").get(pk=user.pk)
    before = user.snapshot()
    if description is not None:
        if len(description) > 500:
            raise ValidationError({"description": "Keep the description under 500 characters."})
        user.description = description
    if enabled is not None:
        user.enabled = enabled
    old, new = changed_fields(before, user.snapshot())
    if not new:
        return user
    user.save(update_fields=list(new))
    if "enabled" in new:
        action = Action.MQTT_USER_ENABLED if user.enabled else Action.MQTT_USER_DISABLED
        if not user.enabled:
            emit_disconnect(org=user.org, username=user.username, reason="user_disabled")
    else:
        action = Action.MQTT_USER_UPDATED
    record_event(
        user.org, action, actor=actor, subject=user_subject(user), request=request, before=old, after=new
    )
    return user


@transaction.atomic
def user_rotate_secret(*, user: MqttUser, grace_seconds: int = 0, actor: Actor, request=None) -> str:
    """Replace the permanent secret; returns the new one (shown once).

    With a grace period the previous secret keeps working until it ends, so a backend can
    roll without downtime; then its sessions are dropped.
    """
    if grace_seconds not in GRACE_SECONDS:
        raise ValidationError(
            {"grace_seconds": f"Choose a grace period among {', '.join(map(str, GRACE_SECONDS))} seconds."}
        )
    user = MqttUser.objects.select_for_update(of=("self",)).select_related("org").get(pk=user.pk)
    now = timezone.now()
    secret = credentials.new_secret()
    if grace_seconds:
        user.previous_secret_digest = user.secret_digest
        user.previous_secret_valid_until = now + timedelta(seconds=grace_seconds)
    else:
        user.previous_secret_digest = ""
        user.previous_secret_valid_until = None
    user.secret_digest = credentials.digest(secret)
    user.secret_created_at = now
    user.save(
        update_fields=[
            "secret_digest",
            "secret_created_at",
            "previous_secret_digest",
            "previous_secret_valid_until",
        ]
    )
    record_event(
        user.org,
        Action.MQTT_USER_SECRET_ROTATED,
        actor=actor,
        subject=user_subject(user),
        request=request,
        details={"grace_seconds": grace_seconds},
    )
    if grace_seconds:
        from .tasks import end_secret_grace

        valid_until = user.previous_secret_valid_until
        transaction.on_commit(
            lambda: end_secret_grace.apply_async(args=[user.pk, valid_until.isoformat()], eta=valid_until)
        )
    else:
        emit_disconnect(org=user.org, username=user.username, reason="secret_rotated")
    return secret


@transaction.atomic
def secret_grace_end(user_id: str, valid_until_iso: str) -> bool:
    """Forget the previous secret once its grace is over, and drop its sessions.

    Idempotent, and a no-op when the user rotated again meanwhile (the grace it was
    scheduled for no longer applies).
    """
    user = MqttUser.objects.select_for_update(of=("self",)).select_related("org").filter(pk=user_id).first()
    if user is None or user.previous_secret_valid_until is None:
        return False
    if user.previous_secret_valid_until != datetime.fromisoformat(valid_until_iso):
        return False
    if user.previous_secret_valid_until > timezone.now():
        return False
    user.previous_secret_digest = ""
    user.previous_secret_valid_until = None
    user.save(update_fields=["previous_secret_digest", "previous_secret_valid_until"])
    emit_disconnect(org=user.org, username=user.username, reason="secret_rotated")
    return True


@transaction.atomic
def user_delete(*, user: MqttUser, actor: Actor, request=None) -> None:
    """Delete the user and its tokens; the audit history keeps the username."""
    user = MqttUser.objects.select_for_update(of=("self",)).select_related("org").get(pk=user.pk)
    record_event(
        user.org,
        Action.MQTT_USER_DELETED,
        actor=actor,
        subject=user_subject(user),
        request=request,
        before=user.snapshot(),
    )
    emit_disconnect(org=user.org, username=user.username, reason="user_deleted")
    user.delete()


def verify_user_secret(user: MqttUser, secret: str, *, now=None) -> bool:
    """Whether ``secret`` is the user's permanent secret, or the previous one in its grace."""
    if credentials.verify(secret, user.secret_digest):
        return True
    now = now or timezone.now()
    return bool(
        user.previous_secret_valid_until
        and user.previous_secret_valid_until > now
        and credentials.verify(secret, user.previous_secret_digest)
    )
