"""Broker events per second through POST /broker/v1/events into PostgreSQL.

Starts gunicorn with the production settings and posts batches of EMQX-shaped events the
way a broker does (the default broker sends a batch every 0.5 s; EMQX's webhook batches
too): each connection's client.connected and, a batch later, its client.disconnected, with
1 % ACL denials (audited, hash-chained). Several posters keep the server busy; every event
is checked in the database afterwards.

Target (issue 6): >= 5,000 events/s. Prints the figure last.

Run after `make test` has started PostgreSQL and Redis:
  DATABASE_URL=postgres://cloudsignal:cloudsignal@127.0.0.1:5432/cloudsignal \\
  REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/events_ingest.py [--events 200000]
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time

from _stack import PRODUCTION, free_port, start_dashboard  # noqa: I001  (sets up Django)

from audit import retention  # noqa: E402
from audit.models import AuditEvent, MqttSession  # noqa: E402
from orgs.models import Organization  # noqa: E402
from users.models import MqttUser  # noqa: E402


def batches(users: list[str], total: int, size: int) -> list[bytes]:
    """Bodies of up to ``size`` events: the disconnects of the previous batch's connects,
    then new connects (every 100th event an ACL denial instead)."""
    out, pending, sent, i, base = [], [], 0, 0, 1_800_000_000_000

    def connect(i: int) -> dict:
        return {
            "event": "client.connected",
            "clientid": f"bench-{i}",
            "username": users[i % len(users)],
            "peername": f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}:{1024 + i % 60000}",
            "connected_at": base + i,
            "node": "bench@127.0.0.1",
            "proto_ver": 4,
            "transport": "mqtts",
        }

    while sent < total:
        events = [
            {
                **c,
                "event": "client.disconnected",
                "reason": "normal",
                "disconnected_at": c["connected_at"] + 30_000,
            }
            for c in pending
        ]
        pending = []
        while len(events) < size and sent + len(events) < total:
            if i % 100 == 99:
                user = users[i % len(users)]
                events.append(
                    {
                        "event": "client.check_authz_complete",
                        "clientid": f"bench-{i}",
                        "username": user,
                        "topic": "x/y",
                        "action": "publish",
                        "result": "deny",
                    }
                )
            else:
                pending.append(connect(i))
                events.append(pending[-1])
            i += 1
        sent += len(events)
        out.append(json.dumps(events).encode())
    return out


def poster(port: int, bodies: list[bytes], errors: list[str]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {
        "Content-Type": "application/json",
        "Authorization": f"Bearer {PRODUCTION['BROKER_HOOK_SECRET']}",
    }
    for body in bodies:
        conn.request("POST", "/broker/v1/events", body=body, headers=headers)
        response = conn.getresponse()
        text = response.read()
        if response.status != 200:
            errors.append(f"{response.status}: {text[:200]!r}")
            return
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--posters", type=int, default=4)
    args = parser.parse_args()

    org = Organization.objects.create(name="ingest bench", max_connections=10_000_000)
    try:
        MqttUser.objects.bulk_create(
            MqttUser(org=org, name=f"dev-{i}", secret_digest="x" * 64) for i in range(100)
        )
        users = [f"dev-{i}@{org.id}" for i in range(100)]
        bodies = batches(users, args.events, args.batch)
        sent = sum(len(json.loads(b)) for b in bodies)
        # Each poster takes every n-th batch, so a connection's close is posted after its open.
        shares = [bodies[i :: args.posters] for i in range(args.posters)]
        errors: list[str] = []
        with start_dashboard(free_port()) as base:
            port = int(base.rsplit(":", 1)[1])
            threads = [threading.Thread(target=poster, args=(port, share, errors)) for share in shares]
            started = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - started
        if errors:
            raise SystemExit(f"the server refused a batch: {errors[0]}")
        sessions = MqttSession.objects.filter(org=org)
        closed = sessions.filter(disconnected_at__isnull=False).count()
        denials = AuditEvent.objects.filter(org=org, action="mqtt.acl_denied").count()
        print(
            f"events sent:      {sent:,} in {len(bodies):,} batches (<= {args.batch}), {args.posters} posters"
        )
        print(f"sessions written: {sessions.count():,} ({closed:,} closed), ACL denials audited: {denials:,}")
        print(f"elapsed:          {elapsed:.2f} s")
        print(f"broker events per second into PostgreSQL: {sent / elapsed:,.0f}")
    finally:
        retention.delete_org(org)


if __name__ == "__main__":
    main()
