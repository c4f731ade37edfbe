from __future__ import annotations

from audit.services import Actor, record_event


def test_keyset_pages_of_the_keys_org_only(api, org_a, org_b):
    for i in range(7):
        record_event(org_a.org, "token.minted", actor=Actor.system(), details={"i": i})
    record_event(org_b.org, "org.updated", actor=Actor.system())
    first = api.get("/audit?action=token.&limit=3").json()
    assert [e["details"]["i"] for e in first["events"]] == [6, 5, 4]
    second = api.get(f"/audit?action=token.&limit=3&after={first['next']}").json()
    assert [e["details"]["i"] for e in second["events"]] == [3, 2, 1]
    everything = api.get("/audit?limit=1000").json()["events"]
    assert "org.updated" not in {e["action"] for e in everything}
    assert api.get("/audit?limit=0").status_code == 422
    assert api.get("/audit?after=nonsense").status_code == 422
