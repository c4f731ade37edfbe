"""``manage.py simulate_fleet ORG_ID [--devices 50] [--minutes 5]``: real data on a new installation.

Creates demo MQTT users (``sim-device-NN`` and ``sim-browser``) with least-privilege ACLs
and drives real MQTT clients through the running broker (``make run`` starts it): normal
telemetry (mostly over TLS, a few over plain MQTT), a burst of wrong secrets, a shared
credential, a browser on WSS with a permanent secret, a flapping client and publishes
outside the ACL. At the end it runs the anomaly scan, so the Sessions, Audit log, Alerts
and checklist pages show real data and the detectors have fired.

Secrets of existing ``sim-`` users are rotated: they are never stored in clear.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from acls.services import user_acl_save
from audit import writer
from audit.services import Actor
from detection import anomalies
from detection.fleet import Device, Endpoint, attempt
from detection.models import Alert
from orgs.models import Organization
from sessions.models import MqttSession
from users.models import MqttUser
from users.services import user_create, user_rotate_secret

ACTOR = Actor.system("simulate_fleet")
DEVICE_RULES = [
    {"permission": "allow", "action": "publish", "topic": "devices/%u/#"},
    {"permission": "allow", "action": "subscribe", "topic": "devices/%u/commands"},
]
BROWSER_RULES = [{"permission": "allow", "action": "subscribe", "topic": "devices/+/telemetry"}]
TELEMETRY_EVERY = 5.0


class Command(BaseCommand):
    help = "Drive simulated MQTT devices through the running broker so every page has real data."

    def add_arguments(self, parser):
        parser.add_argument("org_id")
        parser.add_argument("--devices", type=int, default=50, help="Telemetry devices (3–500, default 50)")
        parser.add_argument("--minutes", type=float, default=5.0, help="How long telemetry runs (default 5)")
        parser.add_argument("--host", default="localhost", help="The broker's host (default localhost)")
        parser.add_argument("--mqtt-port", type=int, default=1883)
        parser.add_argument("--mqtts-port", type=int, default=8883)
        parser.add_argument("--wss-port", type=int, default=18885)
        parser.add_argument("--ca", default=str(settings.VAR_DIR / "tls" / "ca.pem"), help="CA file to trust")

    def handle(self, *args, org_id, devices, minutes, host, mqtt_port, mqtts_port, wss_port, ca, **options):
        org = Organization.objects.filter(pk=org_id).first()
        if org is None:
            raise CommandError(f"No organization {org_id!r}.")
        if not 3 <= devices <= 500:
            raise CommandError("--devices must be between 3 and 500.")
        if not 0 < minutes <= 120:
            raise CommandError("--minutes must be more than 0 and at most 120.")
        endpoint = Endpoint(host, {"mqtt": mqtt_port, "mqtts": mqtts_port, "wss": wss_port}, ca)
        fleet = self._provision(org, devices)
        browser = fleet.pop("sim-browser")
        names = sorted(fleet)
        if not attempt(endpoint, f"{names[0]}@{org.id}", fleet[names[0]], "sim-probe"):
            raise CommandError(
                f"Could not connect to the broker at {host}:{mqtts_port} (TLS, CA {ca}). "
                "Is it running? `make run` starts it."
            )
        started = time.monotonic()
        live = self._connect_fleet(endpoint, org, fleet, names)
        self.stdout.write(f"{len(live)} devices connected; now the anomalies a real fleet has…")
        extra = self._anomalies(endpoint, org, fleet, names, browser, live)
        # At least one round of telemetry, however short the run.
        sent = self._telemetry(live, org, max(started + minutes * 60, time.monotonic() + TELEMETRY_EVERY))
        received = sum(device.received for device in extra)
        self.stdout.write(f"{sent} telemetry messages published; the browser received {received}")
        self._report(org, started)  # while connected: a shared credential is one live twice
        for device in [*live.values(), *extra]:
            device.close()

    def _provision(self, org, devices: int) -> dict[str, str]:
        """sim-device-NN users (and sim-browser) with ACLs; returns name -> fresh secret."""
        secrets = {}
        wanted = [f"sim-device-{i:02d}" for i in range(1, devices + 1)] + ["sim-browser"]
        for name in wanted:
            user = MqttUser.objects.filter(org=org, name=name).first()
            try:
                if user is None:
                    user, secret = user_create(org=org, name=name, description="simulate_fleet", actor=ACTOR)
                else:
                    secret = user_rotate_secret(user=user, actor=ACTOR)
                    user.refresh_from_db()
                rules = BROWSER_RULES if name == "sim-browser" else DEVICE_RULES
                user_acl_save(user=user, rules=rules, rule_sets=[], revision=user.acl_revision, actor=ACTOR)
            except ValidationError as error:
                raise CommandError(f"{name}: {' '.join(error.messages)}") from None
            secrets[name] = secret
        self.stdout.write(f"{len(secrets)} MQTT users ready (sim-device-01…, sim-browser)")
        return secrets

    def _connect_fleet(self, endpoint, org, fleet, names) -> dict[str, Device]:
        def connect(i_name):
            i, name = i_name
            transport = "mqtt" if i % 10 == 9 else "mqtts"  # one in ten forgets TLS
            device = Device(endpoint, f"{name}@{org.id}", fleet[name], name, transport)
            return name, device if device.connect() else None

        with ThreadPoolExecutor(max_workers=16) as pool:
            results = list(pool.map(connect, enumerate(names)))
        return {name: device for name, device in results if device is not None}

    def _anomalies(self, endpoint, org, fleet, names, browser_secret, live) -> list[Device]:
        kept = []
        victim = names[-1]
        for i in range(12):  # a password guesser
            attempt(endpoint, f"{victim}@{org.id}", f"guess-{i}", f"sim-guesser-{i}")
        self.stdout.write(f"  12 wrong secrets for {victim}")
        clone = Device(endpoint, f"{names[0]}@{org.id}", fleet[names[0]], "sim-clone", "mqtts")
        if clone.connect():  # the same credential on a second device, at the same time
            kept.append(clone)
            self.stdout.write(f"  {names[0]} connected twice (client sim-clone)")
        browser = Device(endpoint, f"sim-browser@{org.id}", browser_secret, "sim-browser-tab", "wss")
        if browser.connect():  # a browser app with a permanent secret instead of a token
            browser.subscribe(f"{org.id}/devices/+/telemetry")  # topics carry the org's namespace
            kept.append(browser)
            self.stdout.write("  sim-browser connected over WSS with its permanent secret")
        for _ in range(12):  # a client in a reconnect loop
            attempt(endpoint, f"{names[1]}@{org.id}", fleet[names[1]], "sim-flappy")
        self.stdout.write(f"  {names[1]} reconnected 12 times as sim-flappy")
        if names[2] in live:
            for i in range(60):  # publishes outside its ACL: the broker drops and reports them
                live[names[2]].publish(f"{org.id}/devices/not-{names[2]}/cmd", f"{i}".encode())
            self.stdout.write(f"  {names[2]} published 60 times outside its ACL")
        return kept

    def _telemetry(self, live: dict[str, Device], org, until: float) -> int:
        sent, next_report = 0, time.monotonic() + 30
        while time.monotonic() < until:
            for name, device in live.items():
                device.publish(f"{org.id}/devices/{name}/telemetry", f'{{"t": {time.time():.0f}}}'.encode())
                sent += 1
            if time.monotonic() >= next_report:
                self.stdout.write(
                    f"  {sent} telemetry messages, {max(0, until - time.monotonic()):.0f} s to go"
                )
                next_report += 30
            time.sleep(min(TELEMETRY_EVERY, max(0.0, until - time.monotonic())))
        return sent

    def _report(self, org, started: float) -> None:
        time.sleep(2)  # the broker posts its last events within a second
        writer.drain_all()
        anomalies.scan_org(org)
        sessions = MqttSession.objects.filter(org=org, username__startswith="sim-").count()
        alerts = Alert.objects.filter(org=org).unresolved()
        fired = sorted(set(alerts.values_list("detector", flat=True)))
        self.stdout.write(
            self.style.SUCCESS(
                f"Done in {time.monotonic() - started:.0f} s: {sessions} sessions recorded, "
                f"{alerts.count()} open alerts ({', '.join(fired) or 'none'})."
            )
        )
        self.stdout.write(
            f"See /o/{org.id}/sessions/, /o/{org.id}/audit/, /o/{org.id}/alerts/ and the Overview."
        )
