"""Saving an org's detection settings: audited, and a webhook signing secret shown once."""

from __future__ import annotations

from django.db import transaction

from audit.services import Actor, Subject, changed_fields, record_event
from core import egress

from . import webhooks
from .models import ScanSettings

# What an org tunes (the form's fields, in the model's order); the rest is the system's.
TUNABLE = [
    f.name
    for f in ScanSettings._meta.get_fields()
    if f.name not in ("org", "webhook_salt", "last_scan_at", "last_scan_ms")
]


@transaction.atomic
def save_settings(
    *, current: ScanSettings, data: dict, rotate: bool, actor: Actor, request=None
) -> str | None:
    """Apply ``data``; returns the new signing secret when one was made (a webhook URL set
    for the first time, or a rotation asked for), else None."""
    cfg = ScanSettings.objects.select_for_update().get(pk=current.pk)
    before = {name: getattr(cfg, name) for name in TUNABLE}
    for name in TUNABLE:
        if name in data:
            setattr(cfg, name, data[name])
    secret = None
    if cfg.webhook_url and (rotate or not cfg.webhook_salt):
        cfg.webhook_salt = webhooks.new_salt()
        secret = webhooks.signing_secret(cfg.org_id, cfg.webhook_salt)
    cfg.save()
    old, new = changed_fields(before, {name: getattr(cfg, name) for name in TUNABLE})
    for values in (old, new):  # a webhook URL may carry a credential in its userinfo or query
        if values.get("webhook_url"):
            values["webhook_url"] = egress.redacted(values["webhook_url"])
    if new or secret:
        record_event(
            cfg.org,
            "detection.updated",
            actor=actor,
            subject=Subject("org", cfg.org_id, "detection settings"),
            request=request,
            before=old,
            after=new,
            details={"webhook_secret_rotated": bool(secret)},
        )
    return secret
