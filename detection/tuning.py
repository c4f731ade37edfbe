"""Saving an org's detection settings: audited, and a webhook signing secret shown once."""

from __future__ import annotations

from django.db import transaction

from audit.models import Action, SubjectType
from audit.services import Actor, Subject, changed_fields, record_event
from core import egress

from . import registry, webhooks
from .models import ScanSettings


@transaction.atomic
def save_settings(
    *, current: ScanSettings, data: dict, rotate: bool, actor: Actor, request=None
) -> str | None:
    """Apply ``data`` (detector settings by name, ``webhook_url``; values a form has
    checked); returns the new signing secret when one was made (a webhook URL set for the
    first time, or a rotation asked for), else None."""
    cfg = ScanSettings.objects.select_for_update().get(pk=current.pk)
    before = {**cfg.values.as_dict(), "webhook_url": cfg.webhook_url}
    values = {name: data.get(name, value) for name, value in before.items()}
    for name, setting in registry.settings().items():
        if not setting.accepts(values[name]):  # a form checks first; this is the last guard
            raise ValueError(f"{name}: {values[name]!r} is not a value of this setting")
    cfg.tuning = registry.stored(values)
    cfg.webhook_url = values["webhook_url"]
    secret = None
    if cfg.webhook_url and (rotate or not cfg.webhook_salt):
        cfg.webhook_salt = webhooks.new_salt()
        secret = webhooks.signing_secret(cfg.org_id, cfg.webhook_salt)
    cfg.save()
    old, new = changed_fields(before, {**cfg.values.as_dict(), "webhook_url": cfg.webhook_url})
    for shown in (old, new):  # a webhook URL may carry a credential in its userinfo or query
        if shown.get("webhook_url"):
            shown["webhook_url"] = egress.redacted(shown["webhook_url"])
    if new or secret:
        record_event(
            cfg.org,
            Action.DETECTION_UPDATED,
            actor=actor,
            subject=Subject(SubjectType.ORGANIZATION, cfg.org_id, "detection settings"),
            request=request,
            before=old,
            after=new,
            details={"webhook_secret_rotated": bool(secret)},
        )
    return secret
