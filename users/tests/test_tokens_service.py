from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import Actor
from sessions.models import Revocation
from users.models import TempToken
from users.services import secret_grace_end, user_create, user_rotate_secret, verify_user_secret
from users.tests.presented import presented_token
from users.tokens import sweep_expired_tokens, token_expire, token_mint, token_revoke

pytestmark = pytest.mark.django_db


@pytest.fixture
def mqtt_user(org_a):
    user, _ = user_create(org=org_a.org, name="dashboard", actor=Actor.member(org_a.admin))
    return user


def _mint(org_a, user, ttl=60):
    return token_mint(org=org_a.org, user=user, ttl_seconds=ttl, actor=Actor.member(org_a.admin))


def _age(token: TempToken, seconds: int) -> None:
    TempToken.objects.filter(pk=token.pk).update(
        created_at=token.created_at - timedelta(seconds=seconds),
        expires_at=token.expires_at - timedelta(seconds=seconds),
    )


def test_a_token_past_expires_at_is_expired_even_before_the_job_runs(org_a, mqtt_user):
    token, value = _mint(org_a, mqtt_user)
    assert presented_token(mqtt_user, value).status == "active"
    _age(token, 61)
    found = presented_token(mqtt_user, value)
    assert found.status == "expired" and found.expired_at is None


def test_expire_is_idempotent_and_leaves_tokens_not_yet_due_alone(org_a, mqtt_user):
    token, _ = _mint(org_a, mqtt_user)
    assert token_expire(token.id) is False  # not due
    _age(token, 61)
    assert token_expire(token.id) is True
    assert token_expire(token.id) is False
    assert AuditEvent.objects.filter(action="token.expired").count() == 1
    assert Revocation.objects.filter(reason="token_expired", token_id=token.id).count() == 1


def test_a_revoked_token_never_expires_afterwards(org_a, mqtt_user):
    token, _ = _mint(org_a, mqtt_user)
    token_revoke(token=token, actor=Actor.member(org_a.admin))
    _age(token, 61)
    assert token_expire(token.id) is False
    assert TempToken.objects.get(pk=token.pk).status == "revoked"


def test_the_sweep_marks_every_token_past_due_once(org_a, mqtt_user):
    due = [_mint(org_a, mqtt_user)[0] for _ in range(3)]
    fresh, _ = _mint(org_a, mqtt_user)
    for token in due:
        _age(token, 120)
    assert sweep_expired_tokens() == 3
    assert sweep_expired_tokens() == 0
    assert set(TempToken.objects.filter(expired_at__isnull=False).values_list("pk", flat=True)) == {
        t.pk for t in due
    }
    assert TempToken.objects.get(pk=fresh.pk).status == "active"


def test_the_grace_end_forgets_the_previous_secret_and_drops_its_sessions(org_a, mqtt_user):
    old_user, old_secret = user_create(org=org_a.org, name="backend", actor=Actor.system())
    user_rotate_secret(user=old_user, grace_seconds=300, actor=Actor.system())
    old_user.refresh_from_db()
    valid_until = old_user.previous_secret_valid_until
    assert secret_grace_end(old_user.pk, valid_until.isoformat()) is False  # not over yet
    type(old_user).objects.filter(pk=old_user.pk).update(
        previous_secret_valid_until=timezone.now() - timedelta(seconds=1)
    )
    old_user.refresh_from_db()
    assert secret_grace_end(old_user.pk, valid_until.isoformat()) is False  # rescheduled meanwhile
    assert secret_grace_end(old_user.pk, old_user.previous_secret_valid_until.isoformat()) is True
    old_user.refresh_from_db()
    assert old_user.previous_secret_digest == "" and not verify_user_secret(old_user, old_secret)
    assert Revocation.objects.filter(username=old_user.username, reason="secret_rotated").count() == 1
