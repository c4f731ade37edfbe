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
    def __init__(self, dashboard_url: str, *, node: str = "aedes@test", redis: str = ""):
        self.ports = {"mqtt": free_port(), "mqtts": free_port(), "wss": free_port()}
        self.ca = str(settings.VAR_DIR / "tls" / "ca.pem")
        self.node = node
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
                "--node",
                node,
                "--redis",
                redis,
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
        self,
        broker: BrokerProcess,
        username: str,
        password: str,
        *,
        client_id: str,
        transport: str = "mqtt",
        protocol=mqtt.MQTTv311,
        clean: bool = True,
        will: tuple | None = None,  # (topic, payload, qos, retain)
        keepalive: int = 30,
    ):
        self.messages: list[tuple[str, bytes]] = []
        self.received: list = []  # the MQTTMessage objects: qos, retain, dup
        self.connected = threading.Event()
        self.disconnected = threading.Event()
        self.subscribed = threading.Event()
        self.connect_rc = None
        self.session_present = None
        self.granted: list = []
        self.keepalive = keepalive
        ws = transport == "wss"
        options = {} if protocol == mqtt.MQTTv5 else {"clean_session": clean}
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            transport="websockets" if ws else "tcp",
            protocol=protocol,
            reconnect_on_failure=False,
            **options,
        )
        if will is not None:
            topic, payload, qos, retain = will
            self.client.will_set(topic, payload, qos=qos, retain=retain)
        if ws:
            self.client.ws_set_options(path="/")
        if transport in ("mqtts", "wss"):
            self.client.tls_set(ca_certs=broker.ca, cert_reqs=ssl.CERT_REQUIRED)
        self.client.username_pw_set(username, password)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda c, u, flags, rc, props=None: self.disconnected.set()
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.port = broker.ports[transport]

    def _on_message(self, client, userdata, msg):
        self.messages.append((msg.topic, msg.payload))
        self.received.append(msg)

    def _on_connect(self, client, userdata, flags, rc, properties=None):
        self.connect_rc = rc
        self.session_present = getattr(flags, "session_present", None)
        self.connected.set()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties=None):
        self.granted = [int(getattr(rc, "value", rc)) for rc in reason_codes]
        self.subscribed.set()

    def connect(self, timeout: float = 10) -> bool:
        """True when the broker accepted the connection."""
        self.client.connect("localhost", self.port, keepalive=self.keepalive)
        self.client.loop_start()
        assert self.connected.wait(timeout) or self.disconnected.wait(timeout), "no CONNACK"
        return self.connect_rc is not None and not self.connect_rc.is_failure

    def subscribe(self, topic: str, qos: int = 1) -> list[int]:
        self.subscribed.clear()
        self.client.subscribe(topic, qos=qos)
        assert self.subscribed.wait(10)
        return self.granted

    def publish(self, topic: str, payload: bytes = b"x", qos: int = 1, retain: bool = False) -> None:
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if qos:
            info.wait_for_publish(10)

    def drop(self) -> None:
        """Lose the connection without a DISCONNECT (the broker then publishes the will)."""
        self.client.loop_stop()
        self.client.socket().close()

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


def mqttjs(
    broker: BrokerProcess, username: str, password: str, *, client_id: str, transport: str = "wss", **options
):
    """Run MQTT.js (broker/node/tools/mqttjs_probe.js) once; the JSON events it printed."""
    import json

    scheme = {"mqtt": "mqtt", "mqtts": "mqtts", "wss": "wss"}[transport]
    args = {
        "url": f"{scheme}://localhost:{broker.ports[transport]}/",
        "username": username,
        "password": password,
        "clientId": client_id,
        "ca": broker.ca if transport != "mqtt" else None,
        **options,
    }
    result = subprocess.run(
        ["node", str(ROOT / "broker" / "node" / "tools" / "mqttjs_probe.js"), json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def mosquitto(tool: str, broker: BrokerProcess, username: str, password: str, *args: str, transport="mqtt"):
    """Run Debian's mosquitto_sub or mosquitto_pub against the broker: (exit code, output)."""
    command = [tool, "-h", "localhost", "-p", str(broker.ports[transport]), "-u", username, "-P", password]
    if transport == "mqtts":
        command += ["--cafile", broker.ca]
    result = subprocess.run([*command, *args], capture_output=True, text=True, timeout=30)
    return result.returncode, result.stdout + result.stderr
