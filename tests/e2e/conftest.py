"""The real broker process in front of the live dashboard, and paho-mqtt clients."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BrokerProcess:
    def __init__(self, dashboard_url: str):
        self.ports = {"mqtt": free_port(), "mqtts": free_port(), "wss": free_port()}
        self.ca = str(settings.VAR_DIR / "tls" / "ca.pem")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "runbroker",
                "--dashboard-url",
                dashboard_url,
                "--mqtt",
                f"127.0.0.1:{self.ports['mqtt']}",
                "--mqtts",
                f"127.0.0.1:{self.ports['mqtts']}",
                "--wss",
                f"127.0.0.1:{self.ports['wss']}",
            ],
            cwd=ROOT,
            env={k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.ports["wss"]), timeout=0.5).close()
                return
            except OSError:
                assert self.process.poll() is None, self.stop()
                time.sleep(0.2)
        raise AssertionError(f"the broker did not start:\n{self.stop()}")

    def stop(self) -> str:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                return self.process.communicate(timeout=15)[0]
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        return self.process.communicate()[0]


@pytest.fixture
def broker(live_server, request, settings):
    from audit import writer

    settings.AUDIT_DRAIN_THREAD = True  # as in production: the live server drains the queue
    process = BrokerProcess(live_server.url)
    yield process
    writer.stop_drainer()
    # The broker's log, kept as an artifact for a failed test's diagnosis.
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / f"broker-{request.node.name}.log").write_text(process.stop())


class Client:
    """A paho-mqtt client that records what happens to it."""

    def __init__(
        self, broker: BrokerProcess, username: str, password: str, *, client_id: str, transport: str = "mqtt"
    ):
        self.messages: list[tuple[str, bytes]] = []
        self.connected = threading.Event()
        self.disconnected = threading.Event()
        self.subscribed = threading.Event()
        self.connect_rc = None
        self.granted: list = []
        ws = transport == "wss"
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            transport="websockets" if ws else "tcp",
            protocol=mqtt.MQTTv311,
        )
        if ws:
            self.client.ws_set_options(path="/")
        if transport in ("mqtts", "wss"):
            self.client.tls_set(ca_certs=broker.ca, cert_reqs=ssl.CERT_REQUIRED)
        self.client.username_pw_set(username, password)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda c, u, flags, rc, props=None: self.disconnected.set()
        self.client.on_message = lambda c, u, msg: self.messages.append((msg.topic, msg.payload))
        self.client.on_subscribe = self._on_subscribe
        self.port = broker.ports[transport]

    def _on_connect(self, client, userdata, flags, rc, properties=None):
        self.connect_rc = rc
        self.connected.set()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties=None):
        self.granted = [int(getattr(rc, "value", rc)) for rc in reason_codes]
        self.subscribed.set()

    def connect(self, timeout: float = 10) -> bool:
        """True when the broker accepted the connection."""
        self.client.connect("localhost", self.port, keepalive=30)
        self.client.loop_start()
        assert self.connected.wait(timeout) or self.disconnected.wait(0), "no CONNACK"
        return self.connect_rc is not None and not self.connect_rc.is_failure

    def subscribe(self, topic: str) -> list[int]:
        self.subscribed.clear()
        self.client.subscribe(topic, qos=1)
        assert self.subscribed.wait(10)
        return self.granted

    def publish(self, topic: str, payload: bytes = b"x") -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(10)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def wait_until(condition, timeout: float = 5.0) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout} s")
        time.sleep(0.05)
    return time.monotonic() - started
