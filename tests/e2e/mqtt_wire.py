"""MQTT on the wire, for the tests that need what a well-behaved client library will not do:
withhold a PUBACK, stop sending (keepalive), send MQTT 5 or 3.1 CONNECTs, control characters.

Packets are built and read by hand (MQTT 3.1.1 §2-3); nothing here validates what it sends.
"""

from __future__ import annotations

import socket
import ssl
import struct
import time


def _field(value: str | bytes) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    return struct.pack("!H", len(data)) + data


def _remaining(length: int) -> bytes:
    out = bytearray()
    while True:
        byte, length = length % 128, length // 128
        out.append(byte | (0x80 if length else 0))
        if not length:
            return bytes(out)


def packet(first: int, body: bytes) -> bytes:
    return bytes([first]) + _remaining(len(body)) + body


def connect_packet(
    client_id: str,
    username: str | None,
    password: str | None,
    *,
    version: int = 4,
    clean: bool = True,
    keepalive: int = 30,
    will: tuple[str, bytes, int, bool] | None = None,
) -> bytes:
    name = "MQIsdp" if version == 3 else "MQTT"
    flags = (
        (0x02 if clean else 0) | (0x80 if username is not None else 0) | (0x40 if password is not None else 0)
    )
    if will is not None:
        flags |= 0x04 | (will[2] << 3) | (0x20 if will[3] else 0)
    body = _field(name) + bytes([version, flags]) + struct.pack("!H", keepalive)
    if version == 5:
        body += b"\x00"  # no properties
    body += _field(client_id)
    if will is not None:
        if version == 5:
            body += b"\x00"
        body += _field(will[0]) + _field(will[1])
    if username is not None:
        body += _field(username)
    if password is not None:
        body += _field(password)
    return packet(0x10, body)


class Wire:
    """One raw MQTT connection over TCP or TLS."""

    def __init__(self, port: int, *, ca: str | None = None, timeout: float = 10):
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if ca is not None:
            context = ssl.create_default_context(cafile=ca)
            raw = context.wrap_socket(raw, server_hostname="localhost")
        self.sock = raw
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read(self, timeout: float = 10) -> tuple[int, bytes] | None:
        """The next packet as (first byte, body), or None when the broker closed the connection."""
        self.sock.settimeout(timeout)
        while True:
            parsed = self._parse()
            if parsed is not None:
                return parsed
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, ssl.SSLError):
                return None
            if not chunk:
                return None
            self.buffer += chunk

    def _parse(self):
        if len(self.buffer) < 2:
            return None
        multiplier, length, i = 1, 0, 1
        while True:
            if i >= len(self.buffer):
                return None
            byte = self.buffer[i]
            length += (byte & 0x7F) * multiplier
            multiplier *= 128
            i += 1
            if not byte & 0x80:
                break
        if len(self.buffer) < i + length:
            return None
        first, body = self.buffer[0], self.buffer[i : i + length]
        self.buffer = self.buffer[i + length :]
        return first, body

    def connect(self, client_id: str, username: str | None, password: str | None, **options) -> int | None:
        """The CONNACK return code, or None when the broker closed without one."""
        self.send(connect_packet(client_id, username, password, **options))
        answer = self.read()
        if answer is None or answer[0] >> 4 != 2:
            return None
        return answer[1][-1] if options.get("version", 4) != 5 else answer[1][1]

    def subscribe(self, topic: str, qos: int = 1, message_id: int = 1) -> list[int]:
        self.send(packet(0x82, struct.pack("!H", message_id) + _field(topic) + bytes([qos])))
        while True:
            answer = self.read()
            assert answer is not None, "closed before SUBACK"
            if answer[0] >> 4 == 9:
                return list(answer[1][2:])

    def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False, message_id: int = 1):
        head = 0x30 | (qos << 1) | (1 if retain else 0)
        body = _field(topic) + (struct.pack("!H", message_id) if qos else b"") + payload
        self.send(packet(head, body))

    def next_publish(self, timeout: float = 5) -> dict | None:
        """The next PUBLISH the broker sends (not acknowledged), or None."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                answer = self.read(timeout=left)
            except TimeoutError:
                return None
            if answer is None:
                return None
            first, body = answer
            if first >> 4 != 3:
                continue
            qos = (first >> 1) & 3
            (length,) = struct.unpack("!H", body[:2])
            topic = body[2 : 2 + length].decode()
            rest = body[2 + length :]
            message_id = struct.unpack("!H", rest[:2])[0] if qos else None
            return {
                "topic": topic,
                "qos": qos,
                "dup": bool(first & 0x08),
                "retain": bool(first & 1),
                "id": message_id,
                "payload": rest[2:] if qos else rest,
            }
        return None

    def puback(self, message_id: int) -> None:
        self.send(packet(0x40, struct.pack("!H", message_id)))

    def disconnect(self) -> None:
        self.send(packet(0xE0, b""))
        self.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
