"""Broker authentication throughput: POST /broker/v1/authn through the production server.

Starts the production process group (gunicorn with the production settings, the Celery
worker and beat; PostgreSQL, Redis) on loopback, then drives it with wrk (Debian's
package) for a permanent secret and for a temporary token of a user of an org with 10,000
connected devices, and for the liveness endpoint /healthz on the same server as the
ceiling. Each authn is the real thing: lookup, digest check, quota check, ACL expanded,
audit event written (the run waits for the queue to be written before the next).

Target (issue 5): >= 1,500 authn/s on this 2-core machine, and authn/ceiling >= 0.5.
Each is run --rounds times, interleaved, after a warm-up; prints the median requests/s and
its p50/p99 latency for each, the ratio of each round, and the median ratio last.

Run after `make test` has started PostgreSQL and Redis:
  DATABASE_URL=postgres://cloudsignal:cloudsignal@127.0.0.1:5432/cloudsignal \\
  REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/authn_hook.py [--seconds 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import NamedTuple

from _stack import PRODUCTION, free_port, start_dashboard  # noqa: I001  (sets up Django)

from acls.services import user_acl_save  # noqa: E402
from audit import retention, writer  # noqa: E402
from audit.models import AuditEvent  # noqa: E402
from audit.services import Actor  # noqa: E402
from broker import events  # noqa: E402
from orgs.models import Organization  # noqa: E402
from users.services import user_create  # noqa: E402
from users.tokens import token_mint  # noqa: E402

LUA = """
wrk.method = "POST"
wrk.body = [[{body}]]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {secret}"
"""


class Run(NamedTuple):
    rps: float
    p50: str
    p99: str
    cpu_us: float  # CPU time of the whole machine per request (all processes, all cores)


def _busy_seconds() -> float:
    """CPU time the machine spent not idle, from /proc/stat (every process: server,
    PostgreSQL, Redis, wrk): steadier than requests/s on a machine whose share of its
    host's CPU moves."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def run_wrk(url: str, seconds: int, connections: int, script: str | None = None) -> Run:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if script:
        cmd[1:1] = ["-s", script]
    busy = _busy_seconds()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    busy = _busy_seconds() - busy
    if "Non-2xx" in out:
        sys.exit(f"wrk saw errors:\n{out}")
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)
    return Run(rps, p50, p99, busy / requests * 1e6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of each measured run")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each endpoint, interleaved")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--live-sessions", type=int, default=10_000, help="the org's connected fleet")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")

    org = Organization.objects.create(name="authn bench", max_connections=1_000_000)
    runs: dict[str, list[Run]] = {}
    lag: list[tuple[int, float]] = []
    try:
        user, secret = user_create(org=org, name="bench-device", actor=Actor.system())
        rules = [
            {"permission": "allow", "action": "publish", "topic": "devices/%u/#"},
            {"permission": "allow", "action": "subscribe", "topic": "devices/%c/inbox"},
        ]
        user_acl_save(user=user, rules=rules, rule_sets=[], revision=0, actor=Actor.system())
        _, token = token_mint(org=org, user=user, actor=Actor.system())
        _connect_fleet(org, args.live_sessions)
        with start_dashboard(free_port()) as base, tempfile.TemporaryDirectory() as tmp:
            targets = {
                SECRET: _authn_script(base, Path(tmp) / "secret.lua", user.username, secret),
                TOKEN: _authn_script(base, Path(tmp) / "token.lua", user.username, token),
                CEILING: None,
            }
            urls = {
                SECRET: f"{base}/broker/v1/authn",
                TOKEN: f"{base}/broker/v1/authn",
                CEILING: f"{base}/healthz",
            }
            for label, script in targets.items():  # warm-up: workers, connections, caches
                run_wrk(urls[label], 2, args.connections, script)
            _wait_for_drain()
            # Interleaved rounds, medians reported: this machine is shared and noisy, and a
            # ratio is only meaningful between runs close in time.
            for _ in range(args.rounds):
                for label, script in targets.items():
                    runs.setdefault(label, []).append(
                        run_wrk(urls[label], args.seconds, args.connections, script)
                    )
                    if script:
                        lag.append(_wait_for_drain())
        writer.drain_all()
        audited = AuditEvent.objects.filter(org=org, action="auth.success").count()
    finally:
        writer.drain_all()
        retention.delete_org(org)

    requests = sum(r.rps * args.seconds for label in (SECRET, TOKEN) for r in runs[label])
    print(f"auth.success events written: {audited:,} (about {requests:,.0f} measured requests, plus warm-up)")
    left, seconds = max(lag)
    print(f"audit queue after an authn run: at most {left:,} events, written within {seconds:.1f} s")
    print(
        f"the org has {args.live_sessions:,} live sessions (its connection quota is checked on every CONNECT)"
    )
    for label, results in runs.items():
        median = sorted(results)[len(results) // 2]
        cpu = sorted(r.cpu_us for r in results)[len(results) // 2]
        print(
            f"{label:<24} {median.rps:>7,.0f} req/s (median of {', '.join(f'{r.rps:,.0f}' for r in results)})"
            f"  p50 {median.p50:>7}  p99 {median.p99:>7}  machine CPU {cpu:,.0f} us/request"
        )
    cpu_ratio = [c.cpu_us / a.cpu_us for a, c in zip(runs[SECRET], runs[CEILING], strict=True)]
    print(f"CPU per request, ceiling / authn (secret), per round: {', '.join(f'{r:.2f}' for r in cpu_ratio)}")
    ratios = [a.rps / c.rps for a, c in zip(runs[SECRET], runs[CEILING], strict=True)]
    print(f"ratio per round: {', '.join(f'{r:.2f}' for r in ratios)}")
    print(f"ratio authn (secret) / ceiling: {sorted(ratios)[len(ratios) // 2]:.2f}")


SECRET, TOKEN, CEILING = "authn, permanent secret", "authn, temporary token", "ceiling: GET /healthz"


def _authn_script(base: str, path: Path, username: str, password: str) -> str:
    """A wrk script posting this CONNECT; checked once to be allowed."""
    body = json.dumps(
        {
            "username": username,
            "password": password,
            "clientid": "bench-1",
            "peerhost": "127.0.0.1",
            "transport": "mqtts",
        }
    )
    check = urllib.request.Request(
        f"{base}/broker/v1/authn",
        data=body.encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {PRODUCTION['BROKER_HOOK_SECRET']}",
        },
    )
    assert json.loads(urllib.request.urlopen(check).read())["result"] == "allow", password[:4]
    path.write_text(LUA.format(body=body, secret=PRODUCTION["BROKER_HOOK_SECRET"]))
    return str(path)


def _connect_fleet(org: Organization, devices: int) -> None:
    """The org's fleet connected, through the broker's events hook as a broker reports it:
    the quota check must not cost more for an org with many live sessions."""
    fleet, _ = user_create(org=org, name="fleet", actor=Actor.system())
    for start in range(0, devices, 1000):
        events.ingest(
            [
                {
                    "event": "client.connected",
                    "clientid": f"d-{n}",
                    "username": fleet.username,
                    "connected_at": 1,
                }
                for n in range(start, min(start + 1000, devices))
            ]
        )


def _wait_for_drain() -> tuple[int, float]:
    """Every authn is audited: the server's drainer must have written them all before the
    next run, or that run would be measured with this one's leftovers."""
    started, left = time.monotonic(), writer.backlog()
    while writer.backlog():
        time.sleep(0.05)
    return left, time.monotonic() - started


if __name__ == "__main__":
    main()
