"""Celery jobs of MQTT users and tokens: thin wrappers around the services."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.utils import timezone

from . import services, tokens


@shared_task(bind=True, max_retries=None)
def expire_token(self, token_id: str) -> bool:
    """Runs at the token's expires_at (scheduled when it is minted)."""
    from .models import TempToken

    expires_at = TempToken.objects.filter(pk=token_id).values_list("expires_at", flat=True).first()
    if expires_at and expires_at > timezone.now():  # delivered early (clock skew): wait
        raise self.retry(eta=expires_at)
    return tokens.token_expire(token_id)


@shared_task
def sweep_expired_tokens() -> int:
    """Every minute: expire any token past due whose own job did not run."""
    return tokens.sweep_expired_tokens()


@shared_task(bind=True, max_retries=None)
def end_secret_grace(self, user_id: str, valid_until_iso: str) -> bool:
    """Runs when a rotated secret's grace period ends."""
    valid_until = datetime.fromisoformat(valid_until_iso)
    if valid_until > timezone.now():
        raise self.retry(eta=valid_until)
    return services.secret_grace_end(user_id, valid_until_iso)
