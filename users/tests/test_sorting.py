"""Sortable columns of the users and Sessions lists: every row once, in order, both ways,
across keyset pages; a sort or cursor that is not ours is refused with a word."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.services import Actor
from core.keyset import EPOCH
from sessions.models import MqttSession
from sessions.selectors import page_before
from users.models import MqttUser
from users.selectors import page_users
from users.services import user_create


def _walk(page, qs, sort, size=3):
    rows, cursor = page(qs, None, size, sort=sort)
    seen = list(rows)
    while cursor:
        rows, cursor = page(qs, cursor, size, sort=sort)
        seen += rows
    return seen


@pytest.fixture
def users(org_a):
    now = timezone.now()
    made = []
    for i in range(8):
        user = user_create(org=org_a.org, name=f"u{i}", actor=Actor.system())[0]
        # Ties on purpose (two users per instant), and two never seen.
        seen = None if i < 2 else now - timedelta(minutes=i // 2)
        MqttUser.objects.filter(pk=user.pk).update(
            last_seen_at=seen, secret_created_at=now - timedelta(days=i // 2)
        )
        made.append(user)
    return MqttUser.objects.filter(org=org_a.org)


@pytest.mark.parametrize(
    "sort", ["name", "-name", "last_seen", "-last_seen", "secret_age", "-secret_age", "created"]
)
def test_every_user_once_in_the_columns_order(users, sort):
    seen = _walk(page_users, users, sort)
    assert sorted(u.name for u in seen) == [f"u{i}" for i in range(8)]  # each once
    field = {
        "name": "name",
        "last_seen": "last_seen_at",
        "secret_age": "secret_created_at",
        "created": "created_at",
    }
    key = field[sort.removeprefix("-")]
    values = [getattr(u, key) or EPOCH for u in seen]  # never seen sorts as the oldest
    descending = sort in ("-name", "last_seen", "-secret_age", "created")
    assert values == sorted(values, reverse=descending)


def test_sessions_sort_by_user_and_client(org_a):
    now = timezone.now()
    for i in range(7):
        MqttSession.objects.create(
            org=org_a.org,
            username=f"user{i % 3}@{org_a.org.id}",
            client_id=f"c{6 - i}",
            connected_at_ms=i + 1,
            connected_at=now,
        )
    qs = MqttSession.objects.filter(org=org_a.org)
    by_user = _walk(page_before, qs, "user", size=2)
    assert [s.username for s in by_user] == sorted(s.username for s in qs) and len(by_user) == 7
    assert [s.client_id for s in _walk(page_before, qs, "-client", size=2)] == [
        f"c{i}" for i in range(6, -1, -1)
    ]


def test_the_headers_sort_keep_the_filters_and_turn_round(org_a, client_for, users):
    client = client_for(org_a.admin)
    url = reverse("users:list", kwargs={"org_id": org_a.org.id})
    page = client.get(url, {"q": "u", "sort": "last_seen"}).content.decode()
    assert 'aria-sort="descending"' in page and "?q=u&amp;sort=-last_seen" in page  # the next click reverses
    assert "?q=u&amp;sort=created" in page and 'aria-sort="none"' in page


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"sort": "password"}, "sort must be one of"),
        ({"sort": "last_seen", "after": "bm90IG91cnM"}, "not valid"),
    ],
)
def test_a_sort_or_cursor_that_is_not_ours_is_refused(org_a, client_for, users, params, words):
    client = client_for(org_a.admin)
    page = client.get(reverse("users:list", kwargs={"org_id": org_a.org.id}), params)
    assert page.status_code == 400 and words in page.content.decode()
    sessions = client.get(reverse("sessions:list", kwargs={"org_id": org_a.org.id}), {"sort": "peer_secret"})
    assert sessions.status_code == 400 and "sort must be one of" in sessions.content.decode()
