"""Killing and restarting the dashboard: the broker fails closed, keeps live sessions and
loses none of the events it buffered meanwhile."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from acls.services import user_acl_save
from audit.services import Actor
from sessions.models import MqttSession
from tests.workers import database_url_for_subprocesses
from users.services import user_create

from .conftest import ROOT, BrokerProcess, Client, free_port, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


class Dashboard:
    """The dashboard under gunicorn on the test database, which the test can kill."""

    def __init__(self, port: int):
        self.port = port
        self.process = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
        env["DATABASE_URL"] = database_url_for_subprocesses()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "cloudsignal_dashboard.wsgi",
                "-c",
                "gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--access-logfile",
                "/dev/null",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import socket

        def listening() -> bool:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return True
            except OSError:
                return False

        wait_until(listening, timeout=30)

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def test_live_sessions_survive_new_ones_fail_and_buffered_events_arrive(org_a):
    user, secret = user_create(org=org_a.org, name="device-1", actor=Actor.system())
    user_acl_save(
        user=user,
        rules=[{"permission": "allow", "action": "all", "topic": "x/#"}],
        rule_sets=[],
        revision=0,
        actor=Actor.system(),
    )
    org = org_a.org.id
    dashboard = Dashboard(free_port())
    dashboard.start()
    broker = BrokerProcess(f"http://127.0.0.1:{dashboard.port}")
    clients = []
    try:
        live = Client(broker, user.username, secret, client_id="live")
        leaving = Client(broker, user.username, secret, client_id="leaving")
        clients += [live, leaving]
        assert live.connect() and leaving.connect()
        assert live.subscribe(f"{org}/x/#") == [1]
        wait_until(lambda: MqttSession.objects.filter(client_id="leaving").exists(), timeout=10)

        dashboard.kill()
        refused = Client(broker, user.username, secret, client_id="during-outage")
        clients.append(refused)
        assert not refused.connect()  # fail closed
        leaving.close()  # its disconnect event must wait in the broker's buffer
        assert not live.disconnected.wait(1.0)  # the live session stays up

        dashboard.start()
        after = Client(broker, user.username, secret, client_id="after-outage")
        clients.append(after)
        assert after.connect()
        wait_until(
            lambda: MqttSession.objects.get(client_id="leaving").disconnected_at is not None, timeout=15
        )
    finally:
        for client in clients:
            try:
                client.close()
            except Exception:  # already closed
                pass
        broker.stop()
        dashboard.kill()
