"""Revocation to disconnect, as the client sees it: a token is revoked in the dashboard,
how long until the client's connection is closed by the broker?

Starts the dashboard with the production settings (gunicorn, PostgreSQL, Redis, Celery)
and `manage.py runbroker` in front of it, connects --samples clients each with a token of
its own (raw MQTT 3.1.1 sockets), then revokes the tokens one at a time through the same
service the API and the pages call, and times from the revoke's commit to the socket's
close. The broker polls the revocation feed every 250 ms.

Target (issue 11): p50 <= 0.5 s. Prints the p50 last.

Run after `make test` has started PostgreSQL and Redis:
  DATABASE_URL=postgres://cloudsignal:cloudsignal@127.0.0.1:5432/cloudsignal \\
  REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/revocation_latency.py
"""

from __future__ import annotations

import argparse
import random
import socket
import statistics
import sys
import time

from _stack import ROOT, free_port, start_broker, start_dashboard  # noqa: I001

from audit import retention  # noqa: E402
from audit import writer as audit_writer  # noqa: E402
from audit.services import Actor  # noqa: E402
from orgs.models import Organization  # noqa: E402
from users.models import TempToken  # noqa: E402
from users.services import user_create  # noqa: E402
from users.tokens import token_mint, token_revoke  # noqa: E402

sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from mqtt_wire import Wire  # noqa: E402


def closed_within(wire: Wire, timeout: float) -> float | None:
    """Seconds until the broker closes the socket, or None."""
    started = time.perf_counter()
    wire.sock.settimeout(timeout)
    try:
        while wire.sock.recv(4096):
            pass
    except TimeoutError:
        return None
    except OSError:
        pass
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=40)
    args = parser.parse_args()

    org = Organization.objects.create(name="revocation bench", max_connections=10_000)
    try:
        user, _ = user_create(org=org, name="browser", actor=Actor.system())
        tokens = [token_mint(org=org, user=user, actor=Actor.system()) for _ in range(args.samples)]
        web_port, mqtt_port = free_port(), free_port()
        with start_dashboard(web_port), start_broker(web_port, mqtt_port):
            wires = []
            for n, (_, value) in enumerate(tokens):
                wire = Wire(mqtt_port)
                assert wire.connect(f"tab-{n}", user.username, value, keepalive=600) == 0
                wires.append(wire)
            latencies = []
            for (token, _), wire in zip(tokens, wires, strict=True):
                time.sleep(random.uniform(0, 0.25))  # anywhere in the broker's poll interval
                token_revoke(token=TempToken.objects.get(pk=token.pk), actor=Actor.system())
                waited = closed_within(wire, 5)
                latencies.append(waited if waited is not None else float("inf"))
                wire.close()
    finally:
        audit_writer.drain_all()
        retention.delete_org(org)
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(f"{len(latencies)} revocations: max {latencies[-1] * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms")
    print(f"revocation to disconnect p50: {statistics.median(latencies) * 1000:.0f} ms (target <= 500 ms)")


if __name__ == "__main__":
    socket.setdefaulttimeout(10)
    main()
