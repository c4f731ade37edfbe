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
