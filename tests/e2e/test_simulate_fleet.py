"""simulate_fleet through the real broker: real sessions, and the detectors fire."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from detection.models import Alert
from sessions.models import MqttSession

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_short_simulation_fills_every_page_and_fires_the_detectors(broker, org_a):
    out = io.StringIO()
    call_command(
        "simulate_fleet",
        org_a.org.id,
        devices=10,
        minutes=0.1,
        host="localhost",
        mqtt_port=broker.ports["mqtt"],
        mqtts_port=broker.ports["mqtts"],
        wss_port=broker.ports["wss"],
        ca=broker.ca,
        stdout=out,
    )
    sessions = MqttSession.objects.filter(org=org_a.org)
    transports = list(sessions.values_list("transport", flat=True))
    assert transports.count("mqtts") >= 9 and "mqtt" in transports, (transports, out.getvalue())
    assert sessions.filter(transport="wss", username=f"sim-browser@{org_a.org.id}").exists()
    assert AuditEvent.objects.filter(org=org_a.org, action="auth.failure").count() >= 12
    fired = set(Alert.objects.filter(org=org_a.org).values_list("detector", flat=True))
    expected = {"brute_force", "shared_credentials", "permanent_over_wss", "flapping", "acl_denials"}
    assert expected <= fired, (fired, out.getvalue())
    assert "open alerts" in out.getvalue()
    # Telemetry stays inside each device's ACL: the only denials are the deliberate ones.
    denied = set(
        AuditEvent.objects.filter(org=org_a.org, action="mqtt.acl_denied").values_list(
            "details__topic", flat=True
        )
    )
    assert denied == {f"{org_a.org.id}/devices/not-sim-device-03/cmd"}, denied
    received = int(out.getvalue().split("the browser received ")[1].split()[0])
    assert received > 0, out.getvalue()


def test_bad_arguments_are_refused(org_a):
    with pytest.raises(CommandError, match="No organization"):
        call_command("simulate_fleet", "org_nope")
    with pytest.raises(CommandError, match="--devices"):
        call_command("simulate_fleet", org_a.org.id, devices=1)
    with pytest.raises(CommandError, match="Is it running"):
        call_command("simulate_fleet", org_a.org.id, devices=3, mqtts_port=1, stdout=io.StringIO())
