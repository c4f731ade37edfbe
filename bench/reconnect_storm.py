"""A reconnect storm: thousands of MQTT clients CONNECT at once through the default broker.

Starts the dashboard with the production settings (gunicorn, PostgreSQL, Redis, Celery) and
`manage.py runbroker` (aedes) in front of it, then, for each size in --clients (one after
the other on the same stack), opens that many TCP connections at once, each sending an MQTT
3.1.1 CONNECT with a permanent secret, and waits for every CONNACK. Every CONNECT is a real
authn call (digest check, quota, ACL, audit event).

Targets (issue 11): 1,000 clients <= 3 s, 5,000 clients <= 10 s, none refused. Prints the
largest storm's seconds last.

Run after `make test` has started PostgreSQL and Redis:
  DATABASE_URL=postgres://cloudsignal:cloudsignal@127.0.0.1:5432/cloudsignal \\
  REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/reconnect_storm.py [--clients 1000,5000]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import struct
import time

from _stack import free_port, start_broker, start_dashboard  # noqa: I001

from acls.services import user_acl_save  # noqa: E402
from audit import retention  # noqa: E402
from audit import writer as audit_writer  # noqa: E402
from audit.services import Actor  # noqa: E402
from orgs.models import Organization  # noqa: E402
from users.services import user_create  # noqa: E402


def _field(value: str) -> bytes:
    data = value.encode()
    return struct.pack("!H", len(data)) + data


def connect_packet(client_id: str, username: str, password: str) -> bytes:
    variable = _field("MQTT") + bytes([4, 0xC2]) + struct.pack("!H", 60)
    payload = _field(client_id) + _field(username) + _field(password)
    body = variable + payload
    length, encoded = len(body), bytearray()
    while True:
        byte, length = length % 128, length // 128
        encoded.append(byte | (0x80 if length else 0))
        if not length:
            break
    return bytes([0x10]) + bytes(encoded) + body


async def one_client(port: int, packet: bytes, done: list) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(packet)
    await writer.drain()
    connack = await reader.readexactly(4)
    done.append((connack[3], time.perf_counter()))
    await asyncio.sleep(0)  # keep the connection while the others connect
    return writer


async def storm(port: int, packets: list[bytes]) -> tuple[float, list]:
    done: list = []
    started = time.perf_counter()
    writers = await asyncio.gather(*(one_client(port, p, done) for p in packets))
    elapsed = time.perf_counter() - started
    for writer in writers:
        writer.close()
    return elapsed, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1000,5000", help="storm sizes, comma-separated")
    args = parser.parse_args()
    sizes = [int(n) for n in args.clients.split(",")]
    # One descriptor per client here and in the broker (which inherits the limit).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * max(sizes) + 1024)), hard))

    org = Organization.objects.create(name="storm bench", max_connections=1_000_000)
    try:
        user, secret = user_create(org=org, name="fleet", actor=Actor.system())
        user_acl_save(
            user=user,
            rules=[{"permission": "allow", "action": "publish", "topic": "fleet/%c/#"}],
            rule_sets=[],
            revision=0,
            actor=Actor.system(),
        )
        web_port, mqtt_port = free_port(), free_port()
        with start_dashboard(web_port), start_broker(web_port, mqtt_port):
            figures = []
            for number, size in enumerate(sizes):
                packets = [connect_packet(f"storm-{number}-{i}", user.username, secret) for i in range(size)]
                elapsed, done = asyncio.run(storm(mqtt_port, packets))
                accepted = sum(1 for code, _ in done if code == 0)
                figures.append((size, accepted, len(done) - accepted, elapsed))
                print(f"{size} clients: {accepted} accepted in {elapsed:.2f} s", flush=True)
                time.sleep(3)  # the disconnect events of this storm are written before the next
    finally:
        audit_writer.drain_all()
        retention.delete_org(org)
    targets = {1000: 3, 5000: 10}
    for size, _accepted, refused, elapsed in figures:
        target = f" (target <= {targets[size]} s, 0 refused)" if size in targets else ""
        print(f"{size:>6} clients: {refused} refused, all connected in {elapsed:.2f} s{target}")


if __name__ == "__main__":
    main()
