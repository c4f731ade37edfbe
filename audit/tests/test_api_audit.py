from __future__ import annotations

from audit.services import Actor, record_event


def test_keyset_pages_of_the_keys_org_only(api, org_a, org_b):
    for i in range(7):
        record_event(org_a.org, f"thing.{i}", actor=Actor.system())
    record_event(org_b.org, "theirs.event", actor=Actor.system())
    first = api.get("/audit?action=thing.&limit=3").json()
    assert [e["action"] for e in first["events"]] == ["thing.6", "thing.5", "thing.4"]
    second = api.get(f"/audit?action=thing.&limit=3&after={first['next']}").json()
    assert [e["action"] for e in second["events"]] == ["thing.3", "thing.2", "thing.1"]
    everything = api.get("/audit?limit=1000").json()["events"]
    assert "theirs.event" not in {e["action"] for e in everything}
    assert api.get("/audit?limit=0").status_code == 422
    assert api.get("/audit?after=nonsense").status_code == 422


def test_sessions_by_user_and_activity(api, org_a, org_b):
    from django.utils import timezone

    from sessions.models import MqttSession

    api.post("/users", {"name": "dev"})
    from users.models import MqttUser

    dev = MqttUser.objects.get(org=org_a.org, name="dev")
    for i in range(4):
        MqttSession.objects.create(
            org=org_a.org,
            user=dev,
            username=dev.username,
            client_id=f"c{i}",
            connected_at_ms=i + 1,
            connected_at=timezone.now(),
            disconnected_at=None if i % 2 else timezone.now(),
        )
    MqttSession.objects.create(
        org=org_b.org, username="x", client_id="theirs", connected_at_ms=9, connected_at=timezone.now()
    )
    page = api.get("/sessions?user=dev&limit=3").json()
    assert [s["client_id"] for s in page["sessions"]] == ["c3", "c2", "c1"] and page["next"]
    assert [s["client_id"] for s in api.get(f"/sessions?after={page['next']}").json()["sessions"]] == ["c0"]
    assert {s["client_id"] for s in api.get("/sessions?active=true").json()["sessions"]} == {"c1", "c3"}
    bad = api.get("/sessions?after=nonsense")
    assert bad.status_code == 422 and "not valid any more" in bad.json()["detail"]
    assert api.get("/sessions?limit=5000").status_code == 422
