"""A real `celery worker` process against the test database, for integration tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def database_url_for_subprocesses() -> str:
    """The test database as the processes of a production deployment reach it: as the
    application's role (scripts/test-services.sh creates it with its name as password),
    which may not change the audit log; the tables' owner runs the migrations and the tests."""
    db = settings.DATABASES["default"]
    role = settings.DATABASE_APP_ROLE
    return f"postgres://{role}:{role}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def private_redis_broker(db_number: int = 14) -> str:
    """A Redis database of its own, emptied, so no task queued by another test is run."""
    url = settings.REDIS_URL.rsplit("/", 1)[0] + f"/{db_number}"
    redis.Redis.from_url(url).flushdb()
    return url


def emptied_app_broker() -> str:
    """The broker this process's Celery app publishes to, emptied of earlier tests' tasks:
    for tests where the code under test schedules the job itself."""
    url = settings.CELERY_BROKER_URL
    assert url.startswith("redis://"), f"run with REDIS_URL set (make test), not {url}"
    redis.Redis.from_url(url).flushdb()
    return url


class Worker:
    def __init__(self, process: subprocess.Popen):
        self.process = process
        self.log = ""

    def wait_for(self, condition: Callable[[], bool], timeout: float = 90) -> float:
        """Poll ``condition`` until true; returns the seconds waited. Fails with the log."""
        started = time.monotonic()
        while not condition():
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited:\n{self.stop()}")
            if time.monotonic() - started > timeout:
                raise AssertionError(f"condition not met in {timeout} s:\n{self.stop()}")
            time.sleep(0.2)
        return time.monotonic() - started

    def stop(self) -> str:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.log, _ = self.process.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.log, _ = self.process.communicate()
        return self.log


@contextmanager
def celery_worker(broker_url: str) -> Iterator[Worker]:
    """Run a worker on ``broker_url`` for the test database; stops it afterwards."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(DATABASE_URL=database_url_for_subprocesses(), CELERY_BROKER_URL=broker_url)
    process = subprocess.Popen(
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
    worker = Worker(process)
    try:
        yield worker
    finally:
        worker.stop()
