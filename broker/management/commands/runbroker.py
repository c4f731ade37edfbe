"""``manage.py runbroker``: the default MQTT broker (aedes on Node.js, ``broker/node/``) in
front of this dashboard.

Listeners: MQTT on 127.0.0.1:1883, MQTT over TLS on 8883, MQTT over WebSocket with TLS on
18885. Without --certfile/--keyfile a development CA and server certificate are made under
var/tls/ on first run (clients trust var/tls/ca.pem). With --redis (or BROKER_REDIS_URL)
the node joins a cluster of nodes sharing that Redis.

This command only prepares the configuration: it replaces itself with the Node.js process,
so signals (Ctrl-C, SIGTERM from honcho or a test) reach the broker directly. The hook
secret travels in the environment, never on a command line anyone can read with ps.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from broker.tls import ensure_dev_certificates

BROKER_DIR = Path(__file__).resolve().parents[2] / "node"
MAIN = BROKER_DIR / "src" / "main.js"


def broker_command() -> list[str]:
    """The Node.js command line of the broker; CommandError saying what to install."""
    node = shutil.which("node")
    if node is None:
        raise CommandError("Node.js is not installed: `apt-get install nodejs npm` (make run does it).")
    if not (BROKER_DIR / "node_modules" / "aedes").is_dir():
        raise CommandError(
            f"The broker's packages are missing: run `npm ci` in {BROKER_DIR} (make run does it)."
        )
    return [node, str(MAIN)]


class Command(BaseCommand):
    help = "Run the MQTT broker (aedes); it asks this dashboard over the hook API."

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
        parser.add_argument(
            "--node",
            default=os.environ.get("MQTT_NODE", f"aedes@{socket.gethostname()}"),
            help="this node's name in events and on the Sessions page; unique within a cluster",
        )
        parser.add_argument(
            "--redis",
            default=os.environ.get("BROKER_REDIS_URL", ""),
            help="Redis URL shared by the nodes of a cluster; empty: one node, in memory",
        )

    def handle(self, *args, dashboard_url, mqtt, mqtts, wss, certfile, keyfile, node, redis, **options):
        command = broker_command()
        if not (certfile and keyfile):
            dev = ensure_dev_certificates(settings.VAR_DIR / "tls")
            certfile, keyfile = str(dev.cert), str(dev.key)
            self.stdout.write(f"TLS: development certificate; clients trust {dev.ca}")
        env = {
            **os.environ,
            "DASHBOARD_URL": dashboard_url,
            "BROKER_HOOK_SECRET": settings.BROKER_HOOK_SECRET,
            "MQTT_BIND": mqtt,
            "MQTTS_BIND": mqtts,
            "WSS_BIND": wss,
            "MQTT_CERTFILE": certfile,
            "MQTT_KEYFILE": keyfile,
            "MQTT_NODE": node,
            "BROKER_REDIS_URL": redis,
            "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        }
        self.stdout.flush()
        sys.stderr.flush()
        os.execve(command[0], command, env)
