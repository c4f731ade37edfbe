"""``manage.py emqx_relay``: follow the revocation feed and kick the affected clients on an
EMQX cluster (broker.emqx.relay). A Procfile process; without ``EMQX_API_URL`` it says so and
waits (the embedded broker applies the feed itself), so the process group stays up."""

from __future__ import annotations

import logging
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from broker.emqx.api import Emqx
from broker.emqx.relay import Relay


class Command(BaseCommand):
    help = "Apply the revocation feed to an EMQX cluster through its REST API (EMQX_API_URL)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--url", default=settings.EMQX_API_URL, help="EMQX's REST API (default EMQX_API_URL)"
        )
        parser.add_argument("--key", default=settings.EMQX_API_KEY)
        parser.add_argument("--secret", default=settings.EMQX_API_SECRET)
        parser.add_argument("--poll", type=float, default=settings.EMQX_RELAY_POLL_SECONDS)
        parser.add_argument("--report-every", type=float, default=30.0, help="seconds between lag lines")

    def handle(self, *args, url, key, secret, poll, report_every, **options):
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        if not url:
            self.stdout.write(
                "EMQX relay off: EMQX_API_URL is not set (the embedded broker follows the feed)."
            )
            self.stdout.flush()
            stop.wait()
            return
        relay = Relay(Emqx(url, key, secret), poll=poll)
        threading.Thread(target=lambda: (stop.wait(), relay.stop()), daemon=True).start()
        self.stdout.write(f"EMQX relay: following the revocation feed for {url}")
        self.stdout.flush()
        relay.run(report_every=report_every)
