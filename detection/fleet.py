"""A simulated fleet of MQTT clients (paho-mqtt) for ``manage.py simulate_fleet``: real
connections through the running broker, so sessions, audit events and alerts are real."""

from __future__ import annotations

import ssl
import threading
import time
from dataclasses import dataclass

import paho.mqtt.client as mqtt


@dataclass(frozen=True)
class Endpoint:
    host: str
    ports: dict[str, int]  # transport -> port: mqtt, mqtts, wss
    ca: str | None


class Device:
    """One MQTT client; ``connect`` answers whether the broker accepted it."""

    def __init__(self, endpoint: Endpoint, username: str, password: str, client_id: str, transport: str):
        self.accepted = threading.Event()
        self.done = threading.Event()
        self.refused = False
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            transport="websockets" if transport == "wss" else "tcp",
            protocol=mqtt.MQTTv311,
        )
        if transport == "wss":
            self.client.ws_set_options(path="/")
        if transport in ("mqtts", "wss"):
            self.client.tls_set(ca_certs=endpoint.ca, cert_reqs=ssl.CERT_REQUIRED)
        self.client.username_pw_set(username, password)
        self.received = 0
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *args, **kwargs: self.done.set()
        self.client.on_message = self._on_message
        self.host, self.port = endpoint.host, endpoint.ports[transport]

    def _on_connect(self, client, userdata, flags, reason_code, properties=None):
        self.refused = reason_code.is_failure
        (self.done if self.refused else self.accepted).set()

    def _on_message(self, client, userdata, message):
        self.received += 1

    def connect(self, timeout: float = 10) -> bool:
        try:
            self.client.connect(self.host, self.port, keepalive=30)
        except OSError:
            return False
        self.client.loop_start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not (self.accepted.is_set() or self.done.is_set()):
            time.sleep(0.02)
        return self.accepted.is_set() and not self.refused

    def publish(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=0)

    def subscribe(self, topic_filter: str) -> None:
        self.client.subscribe(topic_filter, qos=0)

    def close(self) -> None:
        try:
            self.client.disconnect()
        finally:
            self.client.loop_stop()


def attempt(
    endpoint: Endpoint, username: str, password: str, client_id: str, transport: str = "mqtts"
) -> bool:
    """Connect and leave at once; True if the broker accepted."""
    device = Device(endpoint, username, password, client_id, transport)
    try:
        return device.connect()
    finally:
        device.close()
