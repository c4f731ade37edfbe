"""Messages per second through the default broker with our per-message ACL checks, next to
the same broker with no hooks at all (aedes as it comes, every message allowed).

Starts the dashboard with the production settings (gunicorn, PostgreSQL, Redis, Celery),
then, in alternating rounds, `manage.py runbroker` with the enforcement and with
BROKER_BENCH_NO_HOOKS=1 (loopback only), and drives each with the same MQTT.js load
(broker/node/tools/load.js): publishers sending QoS 0 messages with a window in flight,
subscribers on a wildcard, counting deliveries. In the enforced runs every PUBLISH and every
delivery is decided by the connection's compiled ACL (a user with --rules rules, the
deciding one last), and the subscribe of each delivery too.

Target (issue 11): ratio >= 0.8. Prints the median ratio of the rounds last.

Run after `make test` has started PostgreSQL and Redis:
  DATABASE_URL=postgres://cloudsignal:cloudsignal@127.0.0.1:5432/cloudsignal \\
  REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/broker_throughput.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess

from _stack import ROOT, free_port, start_broker, start_dashboard  # noqa: I001

from acls.services import user_acl_save  # noqa: E402
from audit import retention  # noqa: E402
from audit import writer as audit_writer  # noqa: E402
from audit.services import Actor  # noqa: E402
from orgs.models import Organization  # noqa: E402
from users.services import user_create  # noqa: E402


def load(port: int, username: str, password: str, prefix: str, args) -> dict:
    options = {
        "port": port,
        "username": username,
        "password": password,
        "publishers": args.publishers,
        "subscribers": args.subscribers,
        "prefix": prefix,
        "seconds": args.seconds,
        "warmup": 1,
        "payloadBytes": 64,
        "window": 50,
    }
    out = subprocess.run(
        ["node", str(ROOT / "broker" / "node" / "tools" / "load.js"), json.dumps(options)],
        capture_output=True,
        text=True,
        timeout=args.seconds + 60,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--publishers", type=int, default=4)
    parser.add_argument("--subscribers", type=int, default=2)
    parser.add_argument("--rules", type=int, default=20)
    args = parser.parse_args()

    org = Organization.objects.create(name="throughput bench", max_connections=1_000)
    try:
        user, secret = user_create(org=org, name="load", actor=Actor.system())
        # Rules that do not match first, the one that does last: the evaluator's real work.
        rules = [
            {"permission": "deny" if n % 3 == 0 else "allow", "action": "all", "topic": f"other/{n}/+/#"}
            for n in range(args.rules - 1)
        ] + [{"permission": "allow", "action": "all", "topic": "fleet/#"}]
        user_acl_save(user=user, rules=rules, rule_sets=[], revision=0, actor=Actor.system())
        prefix = f"{org.id}/fleet"
        web_port = free_port()
        results: dict[str, list[float]] = {"hooks": [], "none": []}
        with start_dashboard(web_port):
            for round_number in range(args.rounds):
                for mode in ("hooks", "none") if round_number % 2 == 0 else ("none", "hooks"):
                    mqtt_port = free_port()
                    hooks = mode == "hooks"
                    env = {} if hooks else {"BROKER_BENCH_NO_HOOKS": "1"}
                    with start_broker(web_port if hooks else None, mqtt_port, **env):
                        figure = load(mqtt_port, user.username, secret, prefix, args)
                    results[mode].append(figure["delivered_per_s"])
                    print(
                        f"round {round_number + 1} {mode:>5}: {figure['delivered_per_s']:>9,.0f} delivered/s "
                        f"({figure['published_per_s']:,.0f} published/s)",
                        flush=True,
                    )
    finally:
        audit_writer.drain_all()
        retention.delete_org(org)
    ratios = [h / n for h, n in zip(results["hooks"], results["none"], strict=True)]
    print(f"with ACL checks: median {statistics.median(results['hooks']):,.0f} messages delivered/s")
    print(f"no hooks:        median {statistics.median(results['none']):,.0f} messages delivered/s")
    print(f"rounds' ratios: {', '.join(f'{r:.2f}' for r in ratios)}")
    print(f"ratio with ACL checks / without hooks: {statistics.median(ratios):.2f} (target >= 0.8)")


if __name__ == "__main__":
    main()
