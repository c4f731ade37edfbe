"""A 2-second token is marked expired by the job its mint scheduled, in a real worker."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from audit.services import Actor
from sessions.models import Revocation
from tests.workers import celery_worker, emptied_app_broker
from users.models import TempToken
from users.services import user_create
from users.tokens import token_mint

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_minted_token_is_expired_by_its_own_job_with_an_audit_event(org_a, settings):
    settings.TOKEN_MIN_TTL = 1  # clients may not ask for 2 s; the test may
    user, _ = user_create(org=org_a.org, name="browser", actor=Actor.system())
    with celery_worker(emptied_app_broker()) as worker:
        token, _ = token_mint(org=org_a.org, user=user, ttl_seconds=2, actor=Actor.member(org_a.admin))
        assert TempToken.objects.get(pk=token.pk).expired_at is None
        worker.wait_for(lambda: TempToken.objects.get(pk=token.pk).expired_at is not None, timeout=60)
    token.refresh_from_db()
    assert token.status == "expired" and token.expired_at >= token.expires_at
    event = AuditEvent.objects.get(action="token.expired", subject_id=token.id)
    assert event.actor_type == "system"
    assert Revocation.objects.filter(token_id=token.id, reason="token_expired").count() == 1
    assert "users.tasks.expire_token" in worker.log and "succeeded" in worker.log
