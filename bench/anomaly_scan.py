"""One anomaly scan pass over 1,000,000 authentication events of the last hour.

Loads 1,000,000 hash-chained auth.success/auth.failure events spread over the last hour
across 10 orgs (2,000 devices each, a few attackers among them so the detectors find
something), plus 50,000 MQTT sessions of the last hour, then times ``scan_all`` (every
detector of every org, as the Celery beat task runs it) on PostgreSQL.

Target (issue 6): <= 10 s. Prints the seconds last.

Run after `make test` has started PostgreSQL and Redis:
  DATABASE_URL=postgres://cloudsignal:cloudsignal@127.0.0.1:5432/cloudsignal \\
  REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/anomaly_scan.py [--events 1000000]
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

import _stack  # noqa: F401  (sets up Django with the production settings)
from _audit_load import copy_chained
from django.utils import timezone

from audit import retention
from audit.models import AuditEvent
from detection import anomalies
from detection.models import Alert, ScanSettings
from orgs.models import Organization
from sessions.models import MqttSession

DEVICES = 2000


def auth_events(org_id: str, n: int, now):
    step = timedelta(hours=1) / n
    start = now - timedelta(hours=1)
    for i in range(n):
        device = i % DEVICES
        attacker = i % 97 == 0  # ~1 % of events: failures from a few addresses
        yield {
            "at": start + step * i,
            "actor_type": "mqtt_user",
            "actor_id": "",
            "actor_label": f"device-{device}@{org_id}",
            "action": "auth.failure" if attacker or i % 50 == 0 else "auth.success",
            "subject_type": "mqtt_user",
            "subject_id": "",
            "subject_label": f"device-{device}",
            "outcome": "failure" if attacker or i % 50 == 0 else "success",
            "peer_ip": f"192.0.2.{i % 5}" if attacker else f"10.{device >> 8}.{device & 255}.1",
            "details": {"reason": "bad_secret" if attacker else "secret", "transport": "mqtts"},
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--orgs", type=int, default=10)
    parser.add_argument("--sessions", type=int, default=50_000)
    args = parser.parse_args()

    now = timezone.now()
    orgs = Organization.objects.bulk_create(Organization(name=f"scan bench {i}") for i in range(args.orgs))
    try:
        began = time.perf_counter()
        per_org = args.events // args.orgs
        copy_chained((org.id, auth_events(org.id, per_org, now)) for org in orgs)
        sessions = []
        for i in range(args.sessions):
            org = orgs[i % len(orgs)]
            device = i % DEVICES
            sessions.append(
                MqttSession(
                    org=org,
                    username=f"device-{device}@{org.id}",
                    client_id=f"c-{device}",
                    node="bench",
                    peer_ip=f"10.{device >> 8}.{device & 255}.1",
                    transport="mqtts",
                    connected_at_ms=i + 1,
                    connected_at=now - timedelta(seconds=3600 * i / args.sessions),
                    disconnected_at=None if i % 3 else now,
                )
            )
        MqttSession.objects.bulk_create(sessions, batch_size=5000)
        ScanSettings.objects.bulk_create(ScanSettings(org=org) for org in orgs)
        loaded = AuditEvent.objects.filter(org__in=orgs).count()
        seconds = time.perf_counter() - began
        print(f"loaded {loaded:,} auth events and {args.sessions:,} sessions in {seconds:.0f} s")

        began = time.perf_counter()
        touched = anomalies.scan_all(now=now)
        elapsed = time.perf_counter() - began
        alerts = Alert.objects.filter(org__in=orgs)
        detectors = sorted(set(alerts.values_list("detector", flat=True)))
        print(f"alerts raised: {alerts.count()} ({', '.join(detectors)})")
        print(f"scan pass (scan_all, {args.orgs} orgs, {touched} alerts touched): {elapsed:.2f} s")
    finally:
        for org in orgs:
            retention.delete_org(org)


if __name__ == "__main__":
    main()
