"""Audit log page server time over 1,000,000 events in PostgreSQL (100 orgs).

Loads 1,000,000 hash-chained audit events with COPY: one large org (550,000 events, so a
filtered page 1,000 pages deep exists) and 99 others sharing the rest. Then times the
audit log view in-process (middleware, tenancy, query, template: the server's time, not
the network's) for the first page, the first page with a filter, and the page 1,000 pages
deep (keyset cursor, 50 rows a page) with the filter outcome=failure. Median of 7 runs.
Also streams the large org's CSV export and reports how much the peak memory grew.

Target (issue 6): <= 100 ms each. Prints the slowest median last.

Run after `make test` has started PostgreSQL and Redis:
  DATABASE_URL=postgres://cloudsignal:cloudsignal@127.0.0.1:5432/cloudsignal \\
  REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/audit_page.py [--events 1000000]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from datetime import UTC, datetime, timedelta

import _stack  # noqa: F401  (sets up Django with the production settings)
from _audit_load import copy_chained
from django.conf import settings
from django.test import Client
from django.test.utils import override_settings

from accounts.models import User
from audit import chain, retention
from audit.models import AuditEvent
from audit.selectors import PAGE_SIZE
from core import keyset
from orgs.models import Membership, Organization, Role

ACTIONS = ["auth.success", "auth.success", "auth.failure", "mqtt_user.updated", "token.minted"]


def events(org_id: str, n: int):
    start, step = datetime.now(UTC) - timedelta(days=30), timedelta(days=30) / max(n, 1)
    for i in range(n):
        action = ACTIONS[i % len(ACTIONS)]
        yield {
            "at": start + step * i,
            "actor_type": "mqtt_user",
            "actor_id": "",
            "actor_label": f"device-{i % 500}@{org_id}",
            "action": action,
            "subject_type": "mqtt_user",
            "subject_id": "",
            "subject_label": f"device-{i % 500}",
            "outcome": "failure" if action == "auth.failure" or i % 7 == 0 else "success",
            "peer_ip": f"10.{i % 250}.{(i >> 8) % 250}.{i % 200 + 1}",
            "details": {"reason": "bad_secret", "transport": "mqtts", "client_id": f"c-{i % 500}"},
        }


def load(orgs: list[Organization], total: int, big_share: float) -> None:
    """``total`` chained events, ``big_share`` of them in the first org."""
    big = int(total * big_share)
    counts = [big] + [(total - big) // (len(orgs) - 1)] * (len(orgs) - 1)
    copy_chained((org.id, events(org.id, n)) for org, n in zip(orgs, counts, strict=True))


def timed(client: Client, url: str, params: dict, runs: int = 7) -> float:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        response = client.get(url, params)
        samples.append(time.perf_counter() - began)
        assert response.status_code == 200, response.status_code
    return statistics.median(samples) * 1000


def export(client: Client, url: str) -> tuple[int, float, float]:
    """Stream the export, counting its lines; (rows, seconds, growth of peak RSS in MB)."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    began = time.perf_counter()
    response = client.get(url)
    lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
    grew = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    return lines - 1, time.perf_counter() - began, grew


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--orgs", type=int, default=100)
    args = parser.parse_args()

    orgs = Organization.objects.bulk_create(Organization(name=f"audit bench {i}") for i in range(args.orgs))
    owner = User.objects.create_user(email=f"audit-bench-{time.time_ns()}@example.com", password=None)
    try:
        began = time.perf_counter()
        load(orgs, args.events, 0.55)
        loaded = AuditEvent.objects.filter(org__in=orgs).count()
        print(f"loaded {loaded:,} audit events in {time.perf_counter() - began:.0f} s")
        big = orgs[0]
        Membership.objects.create(org=big, user=owner, role=Role.AUDITOR)
        storages = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        # No collectstatic manifest here: plain static URLs cost the same to render.
        with override_settings(ALLOWED_HOSTS=["testserver"], SECURE_SSL_REDIRECT=False, STORAGES=storages):
            client = Client()
            client.force_login(owner)
            url = f"/o/{big.id}/audit/"
            failures = AuditEvent.objects.filter(org=big, outcome="failure").order_by("-at", "-id")
            cursor = keyset.cursor_of(failures[PAGE_SIZE * 1000 - 1], "at")
            results = {
                "first page": timed(client, url, {}),
                "first page, outcome=failure": timed(client, url, {"outcome": "failure"}),
                "page 1,000 deep, outcome=failure": timed(
                    client, url, {"outcome": "failure", "after": cursor}
                ),
            }
            exported, export_s, grew_mb = export(client, f"{url}export.csv")
        print(
            f"CSV export of the large org: {exported:,} rows streamed in {export_s:.1f} s, "
            f"peak memory grew {grew_mb:.0f} MB (the rows are never all in memory)"
        )
        began = time.perf_counter()
        verdict = chain.verify(big.id)
        print(f"verify_audit of the large org: {verdict} in {time.perf_counter() - began:.1f} s")
        for label, ms in results.items():
            print(f"{label:<34} {ms:7.1f} ms (median of 7)")
        print(f"slowest audit page server time: {max(results.values()):.1f} ms")
    finally:
        owner.delete()
        for org in orgs:
            retention.delete_org(org)


if __name__ == "__main__":
    main()
