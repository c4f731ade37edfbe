"""Celery runs tasks for real, in a worker process, on both transports we ship.

The task is sent from this process with a countdown and must be executed by a separate
`celery worker` process against the test database: nothing is called by hand or eagerly.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from celery import Celery
from django.contrib.sessions.models import Session
from django.utils import timezone

from .workers import celery_worker, private_redis_broker

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _run_through_worker(broker_url: str) -> None:
    now = timezone.now()
    Session.objects.create(session_key="expired", session_data="x", expire_date=now - timedelta(hours=1))
    Session.objects.create(session_key="live", session_data="x", expire_date=now + timedelta(hours=1))
    with celery_worker(broker_url) as worker:
        sent_at = time.monotonic()
        Celery("test-sender", broker=broker_url).send_task(
            "accounts.tasks.clear_expired_sessions", countdown=2
        )
        worker.wait_for(lambda: not Session.objects.filter(session_key="expired").exists())
        waited = time.monotonic() - sent_at
    assert waited >= 2, "the countdown was not honoured"
    assert "clear_expired_sessions" in worker.log and "succeeded" in worker.log, worker.log
    assert Session.objects.filter(session_key="live").exists()


def test_the_embedded_sqlalchemy_transport_runs_a_countdown_task_in_a_worker(tmp_path):
    _run_through_worker(f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}")


def test_redis_runs_a_countdown_task_in_a_worker():
    _run_through_worker(private_redis_broker())
