"""Broker authentication throughput: POST /broker/v1/authn through the production server.

Starts gunicorn with the production settings (PostgreSQL, Redis cache) on loopback, then
drives it with wrk (Debian's package) for a permanent secret and for a temporary token,
and for the liveness endpoint /healthz on the same server as the ceiling. Each authn is
the real thing: lookup, digest check, quota count, ACL compile, audit insert.

Target (issue 5): >= 1,500 authn/s on this 2-core machine, and authn/ceiling >= 0.5.
Prints requests/s and p50/p99 latency for each, and the ratio last.

Run after `make test` has started PostgreSQL and Redis:
  DATABASE_URL=postgres://cloudsignal:cloudsignal@127.0.0.1:5432/cloudsignal \\
  REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/authn_hook.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from _stack import PRODUCTION, free_port, start_dashboard  # noqa: I001  (sets up Django)

from acls.services import user_acl_save  # noqa: E402
from audit import retention, writer  # noqa: E402
from audit.models import AuditEvent  # noqa: E402
from audit.services import Actor  # noqa: E402
from orgs.models import Organization  # noqa: E402
from users.services import user_create  # noqa: E402
from users.tokens import token_mint  # noqa: E402

LUA = """
wrk.method = "POST"
wrk.body = [[{body}]]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {secret}"
"""


def run_wrk(url: str, seconds: int, connections: int, script: str | None = None) -> tuple[float, str, str]:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if script:
        cmd[1:1] = ["-s", script]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)
    if "Non-2xx" in out:
        sys.exit(f"wrk saw errors:\n{out}")
    return rps, p50, p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")

    org = Organization.objects.create(name="authn bench", max_connections=1_000_000)
    results, lag = {}, {}
    try:
        user, secret = user_create(org=org, name="bench-device", actor=Actor.system())
        rules = [
            {"permission": "allow", "action": "publish", "topic": "devices/%u/#"},
            {"permission": "allow", "action": "subscribe", "topic": "devices/%c/inbox"},
        ]
        user_acl_save(user=user, rules=rules, rule_sets=[], revision=0, actor=Actor.system())
        _, token = token_mint(org=org, user=user, actor=Actor.system())
        with start_dashboard(free_port()) as base, tempfile.TemporaryDirectory() as tmp:
            for label, password in (("authn, permanent secret", secret), ("authn, temporary token", token)):
                body = json.dumps(
                    {
                        "username": user.username,
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
                assert json.loads(urllib.request.urlopen(check).read())["result"] == "allow", label
                script = Path(tmp) / "authn.lua"
                script.write_text(LUA.format(body=body, secret=PRODUCTION["BROKER_HOOK_SECRET"]))
                results[label] = run_wrk(
                    f"{base}/broker/v1/authn", args.seconds, args.connections, str(script)
                )
                # Every authn is audited: the server's drainer must have written them all
                # before the next run, or it would be measured with the queue's leftovers.
                started, left = time.monotonic(), writer.backlog()
                while writer.backlog():
                    time.sleep(0.05)
                lag[label] = (left, time.monotonic() - started)
            results["ceiling: GET /healthz"] = run_wrk(f"{base}/healthz", args.seconds, args.connections)
        writer.drain_all()
        audited = AuditEvent.objects.filter(org=org, action="auth.success").count()
    finally:
        writer.drain_all()
        retention.delete_org(org)

    print(f"auth.success events written: {audited:,} (every request audited)")
    for label, (left, seconds) in lag.items():
        print(
            f"{label:<28} audit queue at the end of the run: {left:,} events, written {seconds:.1f} s later"
        )
    for label, (rps, p50, p99) in results.items():
        print(f"{label:<28} {rps:>9,.0f} req/s   p50 {p50:>8}   p99 {p99:>8}")
    ratio = results["authn, permanent secret"][0] / results["ceiling: GET /healthz"][0]
    print(f"ratio authn (secret) / ceiling: {ratio:.2f}")


if __name__ == "__main__":
    main()
