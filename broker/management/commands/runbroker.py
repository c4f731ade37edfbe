"""``manage.py runbroker``: the embedded MQTT broker (amqtt) in front of this dashboard.

Listeners: MQTT on 127.0.0.1:1883, MQTT over TLS on 8883, MQTT over WebSocket with TLS on
18885 (path /). Without --certfile/--keyfile a development CA and server certificate are
made under var/tls/ on first run (clients trust var/tls/ca.pem).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal

from django.conf import settings
from django.core.management.base import BaseCommand

from broker.embedded import DashboardBroker
from broker.tls import ensure_dev_certificates


def drop_peer_resets(record: logging.LogRecord) -> bool:
    """amqtt logs an ERROR with a traceback when a client hangs up while its connection is
    being set up (every refused client does): that is the client's business, not an error."""
    error = record.exc_info[1] if record.exc_info else None
    return not isinstance(error, ConnectionResetError | BrokenPipeError)


class Command(BaseCommand):
    help = "Run the embedded MQTT broker; it asks this dashboard over the hook API."

    def add_arguments(self, parser):
        port = os.environ.get("DASHBOARD_PORT", os.environ.get("PORT", "8000"))
        parser.add_argument(
            "--dashboard-url", default=os.environ.get("DASHBOARD_URL", f"http://127.0.0.1:{port}")
        )
        parser.add_argument(
            "--mqtt",
            default=os.environ.get("MQTT_BIND", "127.0.0.1:1883"),
            help="plain MQTT listener (loopback by default); 'off' to disable",
        )
        parser.add_argument(
            "--mqtts",
            default=os.environ.get("MQTTS_BIND", "0.0.0.0:8883"),
            help="MQTT over TLS listener; 'off' to disable",
        )
        parser.add_argument(
            "--wss",
            default=os.environ.get("WSS_BIND", "0.0.0.0:18885"),
            help="MQTT over WebSocket with TLS listener; 'off' to disable",
        )
        parser.add_argument("--certfile", default=os.environ.get("MQTT_CERTFILE"))
        parser.add_argument("--keyfile", default=os.environ.get("MQTT_KEYFILE"))
        parser.add_argument("--node", default=os.environ.get("MQTT_NODE", "amqtt@localhost"))

    def handle(self, *args, dashboard_url, mqtt, mqtts, wss, certfile, keyfile, node, **options):
        for noisy in ("amqtt", "transitions", "websockets"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        logging.getLogger("asyncio").addFilter(drop_peer_resets)
        if not (certfile and keyfile):
            dev = ensure_dev_certificates(settings.VAR_DIR / "tls")
            certfile, keyfile = str(dev.cert), str(dev.key)
            self.stdout.write(f"TLS: development certificate; clients trust {dev.ca}")
        listeners: dict = {}
        if mqtt != "off":
            listeners["default"] = {"type": "tcp", "bind": mqtt}
        if mqtts != "off":
            listeners["mqtts"] = {
                "type": "tcp",
                "bind": mqtts,
                "ssl": True,
                "certfile": certfile,
                "keyfile": keyfile,
            }
        if wss != "off":
            listeners["wss"] = {
                "type": "ws",
                "bind": wss,
                "ssl": True,
                "certfile": certfile,
                "keyfile": keyfile,
            }
        config = {
            "listeners": listeners,
            "plugins": {
                "broker.embedded.DashboardPlugin": {
                    "dashboard_url": dashboard_url,
                    "hook_secret": settings.BROKER_HOOK_SECRET,
                    "node": node,
                },
            },
        }
        self.stdout.write(
            "MQTT broker: " + ", ".join(f"{k} {v['bind']}" for k, v in listeners.items()) + "; "
            f"dashboard {dashboard_url}"
        )
        asyncio.run(self._serve(config))

    async def _serve(self, config: dict) -> None:
        broker = DashboardBroker(config)
        await broker.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await broker.shutdown()
