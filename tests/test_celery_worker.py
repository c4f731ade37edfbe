"""Celery runs tasks for real, in a worker process, on both transports we ship.

The task is sent from this process with a countdown and must be executed by a separate
`celery worker` process against the test database: nothing is called by hand or eagerly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _test_database_url() -> str:
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def _start_worker(broker_url: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL",)}
    env.update(DATABASE_URL=_test_database_url(), CELERY_BROKER_URL=broker_url)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "cloudsignal_dashboard",
            "worker",
            "--pool",
            "solo",
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _stop(worker: subprocess.Popen) -> str:
    os.killpg(worker.pid, signal.SIGTERM)
    try:
        out, _ = worker.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        out, _ = worker.communicate()
    return out


def _sessions():
    now = timezone.now()
    Session.objects.create(session_key="expired", session_data="x", expire_date=now - timedelta(hours=1))
    Session.objects.create(session_key="live", session_data="x", expire_date=now + timedelta(hours=1))


def _run_through_worker(broker_url: str) -> None:
    _sessions()
    worker = _start_worker(broker_url)
    try:
        sender = Celery("test-sender", broker=broker_url)
        sent_at = time.monotonic()
        sender.send_task("accounts.tasks.clear_expired_sessions", countdown=2)
        deadline = sent_at + 90
        while Session.objects.filter(session_key="expired").exists():
            assert worker.poll() is None, f"worker exited:\n{_stop(worker)}"
            assert time.monotonic() < deadline, f"task never ran:\n{_stop(worker)}"
            time.sleep(0.2)
        waited = time.monotonic() - sent_at
    finally:
        log = _stop(worker)
    assert waited >= 2, "the countdown was not honoured"
    assert "clear_expired_sessions" in log and "succeeded" in log, log
    assert Session.objects.filter(session_key="live").exists()


def test_the_embedded_sqlalchemy_transport_runs_a_countdown_task_in_a_worker(tmp_path):
    _run_through_worker(f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}")


def test_redis_runs_a_countdown_task_in_a_worker():
    url = settings.REDIS_URL.rsplit("/", 1)[0] + "/14"
    redis.Redis.from_url(url).flushdb()
    _run_through_worker(url)
