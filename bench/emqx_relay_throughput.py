"""Entries per second the EMQX relay sustains: a backlog of revocations (each a user with a
live client on EMQX: a lookup and a kick) is applied by `manage.py emqx_relay` against the
stand-in for EMQX 5.8's REST API (tests/emqx_fake.py, its own process).

Writes --entries revocations, then starts the relay with its cursor before them and times
from its first request to EMQX to its last kick (the fake's clock).

Target (issue 16): >= 1,000 entries/s. Prints the rate last.

  DATABASE_URL=postgres://cloudsignal:cloudsignal@127.0.0.1:5432/cloudsignal \\
  REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/emqx_relay_throughput.py
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _emqx import fake_emqx, fleet, kick_times, relay  # noqa: I001

from orgs.models import Organization  # noqa: E402
from sessions.models import FeedCursor, Revocation, RevocationKind  # noqa: E402
from sessions.revocations import latest_cursor  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=5000)
    args = parser.parse_args()
    org = Organization.objects.create(name="relay throughput bench")
    names, clients = fleet(org, args.entries)
    start = latest_cursor()
    Revocation.objects.bulk_create(
        Revocation(org=org, kind=RevocationKind.DISCONNECT, username=n, reason="bench") for n in names
    )
    FeedCursor.objects.update_or_create(name="emqx", defaults={"position": start})
    with tempfile.TemporaryDirectory() as tmp, fake_emqx(Path(tmp), clients) as fake, relay(fake):
        deadline = time.monotonic() + 300
        while len(kick_times(fake)) < len(names) and time.monotonic() < deadline:
            time.sleep(0.5)
        requests = fake.requests()
        kicked = kick_times(fake)
    Revocation.objects.filter(org=org).delete()
    first = min(r["at"] for r in requests)
    elapsed = max(kicked.values()) - first
    print(f"entries {len(names)}; kicked {len(kicked)}; requests to EMQX {len(requests)}; {elapsed:.2f} s")
    print(f"relay entries per second: {len(kicked) / elapsed:,.0f}")


if __name__ == "__main__":
    main()
