"""The connection snippets a new user's page shows run as printed, against the real broker
(in a folder holding the ca.pem they name), and say so when the ACL would drop their message."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from django.urls import reverse

from acls.services import user_acl_save
from audit.services import Actor
from sessions.models import MqttSession
from users.services import user_create
from users.snippets import connection_snippets

from .conftest import Client, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ACTOR = Actor.system()


def test_the_mosquitto_and_paho_snippets_run_as_printed(broker, org_a, settings, tmp_path, client):
    settings.MQTT_PUBLIC_TLS_URL = f"mqtts://localhost:{broker.ports['mqtts']}"
    settings.MQTT_CA_FILE = str(broker.ca)  # what the Overview offers as ca.pem
    user, secret = user_create(org=org_a.org, name="backend", actor=ACTOR)
    client.force_login(org_a.admin)
    note_url = reverse("acls:user_snippet_note", kwargs={"org_id": org_a.org.id, "name": user.name})
    # Nothing granted yet: the reveal page's note says the message would be dropped.
    assert "may not publish to backend/hello" in client.get(note_url).content.decode()
    rules = [{"permission": "allow", "action": "all", "topic": "%u/#"}]
    user_acl_save(user=user, rules=rules, rule_sets=[], revision=0, actor=ACTOR)
    assert client.get(note_url).content.decode().strip() == ""
    shutil.copy(broker.ca, tmp_path / "ca.pem")
    snippets = {s["language"]: s["code"] for s in connection_snippets(user, secret)}
    listener = Client(broker, user.username, secret, client_id="listener")
    try:
        assert listener.connect() and listener.subscribe(f"{org_a.org.id}/backend/hello") == [1]
        shell = subprocess.run(
            ["bash", "-c", snippets["shell"]], cwd=tmp_path, timeout=30, capture_output=True
        )
        assert shell.returncode == 0, shell.stderr
        wait_until(lambda: len(listener.messages) == 1)
        # Both snippets use the client id <name>-1: let the first one's connection be gone
        # before the second takes the id (aedes' takeover race, a known problem, lost the
        # second message once under CI load).
        open_ = MqttSession.objects.filter(client_id=f"{user.name}-1", disconnected_at=None)
        wait_until(lambda: not open_.exists(), timeout=10)
        python = subprocess.run(
            [sys.executable, "-c", snippets["python"]], cwd=tmp_path, timeout=30, capture_output=True
        )
        assert python.returncode == 0, python.stderr
        wait_until(lambda: len(listener.messages) == 2)
        assert listener.messages == [(f"{org_a.org.id}/backend/hello", b"hello")] * 2
    finally:
        listener.close()
