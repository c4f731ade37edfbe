"""Revocation to kick request with the EMQX relay running: a revocation is committed in the
dashboard; how long until the relay's DELETE /api/v5/clients/{id} reaches EMQX?

Runs the stand-in for EMQX 5.8's REST API (tests/emqx_fake.py) in its own process and
`manage.py emqx_relay` (the Procfile's process, production settings, polling every
EMQX_RELAY_POLL_SECONDS = 0.1 s) against it; commits --samples revocations one at a time,
at random moments, through the same function the services call, and times from the commit
to the fake's receipt of the kick.

Target (issue 16): p50 <= 0.5 s. Prints the p50 last.

  DATABASE_URL=postgres://cloudsignal:cloudsignal@127.0.0.1:5432/cloudsignal \\
  REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/emqx_relay_latency.py
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from _emqx import fake_emqx, fleet, kick_times, relay  # noqa: I001
from django.db import transaction  # noqa: E402

from orgs.models import Organization  # noqa: E402
from sessions.models import FeedCursor, Revocation  # noqa: E402
from sessions.revocations import emit_disconnect, latest_cursor  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=60)
    args = parser.parse_args()
    org = Organization.objects.create(name="relay latency bench")
    names, clients = fleet(org, args.samples)
    FeedCursor.objects.update_or_create(name="emqx", defaults={"position": latest_cursor()})
    with tempfile.TemporaryDirectory() as tmp, fake_emqx(Path(tmp), clients) as fake, relay(fake):
        time.sleep(2)  # the relay is up and following
        committed: dict[str, float] = {}
        for i, name in enumerate(names):
            time.sleep(random.uniform(0.05, 0.3))
            with transaction.atomic():
                emit_disconnect(org=org, username=name, reason="bench")
            committed[f"c-{i}"] = time.time()
        deadline = time.monotonic() + 30
        while len(kick_times(fake)) < len(names) and time.monotonic() < deadline:
            time.sleep(0.1)
        kicked = kick_times(fake)
    Revocation.objects.filter(org=org).delete()
    latencies = sorted(kicked[c] - t for c, t in committed.items() if c in kicked)
    missing = len(committed) - len(latencies)
    q = statistics.quantiles(latencies, n=100)
    print(f"samples {len(latencies)} (missing {missing}); p90 {q[89]:.3f} s; max {latencies[-1]:.3f} s")
    print(f"revocation to kick request p50: {statistics.median(latencies):.3f} s")


if __name__ == "__main__":
    main()
