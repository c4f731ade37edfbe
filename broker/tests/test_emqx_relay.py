"""The revocation relay against a stand-in for EMQX 5.8's REST API (tests/emqx_fake.py, a
separate process): what it kicks, what it must not kick, and that nothing is lost or applied
twice when EMQX goes away mid-stream."""

from __future__ import annotations

import base64
import socket
import threading
import time

import pytest
from django.core.management import call_command
from django.utils import timezone

from audit.services import Actor
from broker.emqx import api as emqx_api
from broker.emqx.api import Emqx, EmqxError
from broker.emqx.relay import Relay, position, status
from sessions.models import FeedCursor, MqttSession
from sessions.revocations import emit_disconnect, emit_refresh
from tests.emqx_fake import KEY, SECRET, VIEWER_KEY, running_fake
from users.services import user_create, user_update

pytestmark = pytest.mark.django_db(transaction=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def port():
    return free_port()


def relay_for(fake, key=KEY) -> Relay:
    return Relay(Emqx(fake.url, key, SECRET), poll=0.02, backoff=(0.05, 0.2))


def started_at_the_feed_end(relay: Relay) -> None:
    assert position() >= 0  # the first start begins at the end of the feed


def clients(org_id: str, *specs: tuple[str, str]) -> dict:
    return {
        cid: {"username": f"{name}@{org_id}", "node": "emqx@10.0.0.1", "connected": True}
        for cid, name in specs
    }


def test_a_users_clients_are_found_across_pages_and_kicked_and_no_one_elses(
    org_a, org_b, port, tmp_path, monkeypatch
):
    monkeypatch.setattr(emqx_api, "PAGE_LIMIT", 2)
    live = {
        **clients(org_a.org.id, ("s-1", "sensor"), ("s-2", "sensor"), ("s-3", "sensor"), ("o-1", "other")),
        **clients(org_b.org.id, ("b-1", "sensor")),  # the same name in another org
    }
    with running_fake(tmp_path, port, live) as fake:
        relay = relay_for(fake)
        started_at_the_feed_end(relay)
        emit_disconnect(org=org_a.org, username=f"sensor@{org_a.org.id}", reason="user_disabled")
        assert relay.step() == 1
        assert sorted(fake.kicks()) == ["s-1", "s-2", "s-3"]
        lists = [r for r in fake.requests() if r["method"] == "GET" and r["path"] == "/api/v5/clients"]
        assert [r["query"] for r in lists] == [
            f"username=sensor%40{org_a.org.id}&page={page}&limit=2" for page in (1, 2)
        ]
        bulk = [r for r in fake.requests() if r["path"] == "/api/v5/clients/kickout/bulk"]
        assert [(r["method"], sorted(r["body"]), r["status"]) for r in bulk] == [
            ("POST", ["s-1", "s-2", "s-3"], 204)
        ]
        basic = "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
        assert {r["auth"] for r in fake.requests()} == {basic}
        assert fake.live() == {"o-1", "b-1"}


def test_a_disconnected_client_is_kicked_only_if_it_is_that_users(org_a, org_b, port, tmp_path):
    """Client ids are not per org: another org's client with the same id stays connected."""
    live = clients(org_b.org.id, ("shared-id", "intruder")) | clients(org_a.org.id, ("mine", "sensor"))
    with running_fake(tmp_path, port, live) as fake:
        relay = relay_for(fake)
        started_at_the_feed_end(relay)
        user = f"sensor@{org_a.org.id}"
        emit_disconnect(org=org_a.org, username=user, client_id="shared-id", reason="admin_disconnect")
        emit_disconnect(org=org_a.org, username=user, client_id="mine", reason="admin_disconnect")
        emit_disconnect(org=org_a.org, username=user, client_id="gone-already", reason="admin_disconnect")
        assert relay.step() == 3
        assert fake.kicks() == ["mine"]
        assert "shared-id" in fake.live()


def test_a_revoked_tokens_sessions_are_kicked_and_the_users_other_clients_stay(org_a, port, tmp_path):
    user = f"browser@{org_a.org.id}"
    now = timezone.now()
    for client_id, token in (("tab-1", "tok1"), ("tab-2", "tok2")):
        MqttSession.objects.create(
            org=org_a.org,
            username=user,
            token_id=token,
            client_id=client_id,
            connected_at_ms=1,
            connected_at=now,
        )
    with running_fake(
        tmp_path, port, clients(org_a.org.id, ("tab-1", "browser"), ("tab-2", "browser"))
    ) as fake:
        relay = relay_for(fake)
        started_at_the_feed_end(relay)
        emit_disconnect(org=org_a.org, username=user, token_id="tok1", reason="token_revoked")
        relay.step()
        assert fake.kicks() == ["tab-1"]


def test_a_refresh_is_a_kick_and_a_disabled_user_goes_through_the_service(org_a, port, tmp_path):
    mqtt_user, _ = user_create(org=org_a.org, name="sensor", actor=Actor.system())
    with running_fake(tmp_path, port, clients(org_a.org.id, ("s-1", "sensor"), ("s-2", "sensor"))) as fake:
        relay = relay_for(fake)
        started_at_the_feed_end(relay)
        emit_refresh(org=org_a.org, username=mqtt_user.username, reason="acl_changed")
        relay.step()
        assert sorted(fake.kicks()) == ["s-1", "s-2"]
    live = clients(org_a.org.id, ("s-3", "sensor"))
    with running_fake(tmp_path, port, live) as fake:
        user_update(user=mqtt_user, enabled=False, actor=Actor.system())
        relay.step()
        assert fake.kicks()[-1] == "s-3"


def test_the_cursor_is_kept_so_a_restart_neither_replays_nor_skips(org_a, port, tmp_path):
    user = f"sensor@{org_a.org.id}"
    emit_disconnect(org=org_a.org, username=user, reason="before the relay existed")
    with running_fake(tmp_path, port, clients(org_a.org.id, ("s-1", "sensor"))) as fake:
        first = relay_for(fake)
        assert first.step() == 0  # history before the first start is not replayed
        emit_disconnect(org=org_a.org, username=user, reason="user_disabled")
        assert first.step() == 1
        kept = FeedCursor.objects.get(name="emqx").position
        emit_disconnect(org=org_a.org, username=user, reason="while it was down")
        second = relay_for(fake)  # a restart
        assert second.step() == 1 and position() == kept + 1
        assert second.step() == 0


def test_every_revocation_is_applied_once_when_emqx_dies_and_comes_back(org_a, port, tmp_path):
    names = [f"dev-{i:03d}" for i in range(60)]
    with running_fake(tmp_path, port, clients(org_a.org.id, *[(f"c-{n}", n) for n in names])) as fake:
        relay = relay_for(fake)
        started_at_the_feed_end(relay)
        runner = threading.Thread(target=relay.run, kwargs={"report_every": 0.2}, daemon=True)
        runner.start()
        for i, name in enumerate(names):
            emit_disconnect(org=org_a.org, username=f"{name}@{org_a.org.id}", reason="user_disabled")
            if i == 20:
                fake.kill()  # mid-stream: the node goes away
            if i == 40:
                fake.start()  # and comes back on the same port and state
        deadline = time.monotonic() + 20
        while len(fake.kicks()) < len(names) and time.monotonic() < deadline:
            time.sleep(0.05)
        relay.stop()
        runner.join(10)
        kicks = fake.kicks()
    assert sorted(kicks) == sorted(f"c-{n}" for n in names)
    assert len(kicks) == len(set(kicks)), "a revocation was applied twice"
    assert status()["behind"] == 0


def test_a_node_restarting_503_is_retried_until_it_takes_the_kick(org_a, port, tmp_path):
    with running_fake(tmp_path, port, clients(org_a.org.id, ("s-1", "sensor"))) as fake:
        relay = relay_for(fake)
        started_at_the_feed_end(relay)
        fake.kill()
        fake.edit(lambda state: state.update(unavailable=True))
        fake.start()
        emit_disconnect(org=org_a.org, username=f"sensor@{org_a.org.id}", reason="user_disabled")
        done = threading.Thread(target=relay.step, daemon=True)
        done.start()
        time.sleep(0.5)
        assert done.is_alive() and fake.kicks() == []  # still trying, the cursor not moved
        assert status()["behind"] == 1
        fake.kill()
        fake.edit(lambda state: state.update(unavailable=False))
        fake.start()
        done.join(10)
        assert fake.kicks() == ["s-1"] and status()["behind"] == 0
        assert any(r["status"] == 503 for r in fake.requests())


def test_a_wrong_or_read_only_key_is_refused_loudly_and_nothing_is_skipped(org_a, port, tmp_path, caplog):
    with running_fake(tmp_path, port, clients(org_a.org.id, ("s-1", "sensor"))) as fake:
        for key in ("wrong-key", VIEWER_KEY):
            with pytest.raises(EmqxError) as refused:
                Emqx(fake.url, key, SECRET).kick("s-1")
            assert refused.value.retry is False and "check EMQX_API_KEY" in str(refused.value)
        assert [r["status"] for r in fake.requests()] == [401, 403]
        relay = relay_for(fake, key="wrong-key")
        started_at_the_feed_end(relay)
        emit_disconnect(org=org_a.org, username=f"sensor@{org_a.org.id}", reason="user_disabled")
        runner = threading.Thread(target=relay.run, daemon=True)
        runner.start()
        time.sleep(0.4)
        relay.stop()
        runner.join(5)
    assert "BAD_API_KEY_OR_SECRET" in caplog.text
    assert status()["behind"] == 1  # not skipped: it waits for a key that works


def test_readyz_reports_the_relays_lag_and_fails_when_revocations_wait_too_long(org_a, client, settings):
    settings.EMQX_API_URL = "http://emqx.invalid:18083"
    assert client.get("/readyz").json() == {"status": "ok", "emqx_relay": status()}
    position()
    revocation = emit_disconnect(org=org_a.org, username=f"sensor@{org_a.org.id}", reason="user_disabled")
    answer = client.get("/readyz")
    assert answer.status_code == 200 and answer.json()["emqx_relay"]["behind"] == 1
    type(revocation).objects.filter(pk=revocation.pk).update(
        created_at=timezone.now() - timezone.timedelta(minutes=5)
    )
    answer = client.get("/readyz")
    assert answer.status_code == 503 and answer.json()["status"] == "lagging"


def test_without_emqx_the_relay_process_says_it_is_off_and_waits(settings, capsys, monkeypatch):
    settings.EMQX_API_URL = ""
    monkeypatch.setattr(threading.Event, "wait", lambda self, timeout=None: True)
    call_command("emqx_relay")
    assert "EMQX relay off: EMQX_API_URL is not set" in capsys.readouterr().out
