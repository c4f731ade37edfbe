"""The sessions API answers with the Sessions page's selector: same filters, same refusals."""

from __future__ import annotations

import pytest
from django.utils import timezone

from core.filters import BadFilter
from sessions.models import MqttSession
from sessions.selectors import filter_sessions
from users.models import MqttUser


def test_sessions_by_user_and_activity(api, org_a, org_b):
    api.post("/users", {"name": "dev"})
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


def test_the_api_filters_as_the_page_does_and_refuses_the_same_values(api, org_a):
    api.post("/users", {"name": "dev"})
    dev = MqttUser.objects.get(org=org_a.org, name="dev")
    for i, transport in enumerate(["mqtts", "wss"]):
        MqttSession.objects.create(
            org=org_a.org,
            user=dev,
            username=dev.username,
            client_id=f"browser-{i}" if transport == "wss" else "agent",
            transport=transport,
            peer_ip="203.0.113.7",
            connected_at_ms=i + 1,
            connected_at=timezone.now(),
        )
    listed = api.get("/sessions?transport=wss&client=brow&ip=203.0.113.7").json()["sessions"]
    assert [s["client_id"] for s in listed] == ["browser-1"]
    for query, params in [
        ("transport=carrier-pigeon", {"transport": "carrier-pigeon"}),
        ("since=2026-13-45T99:99", {"since": "2026-13-45T99:99"}),
        ("ip=not-an-address", {"ip": "not-an-address"}),
    ]:
        response = api.get(f"/sessions?{query}")
        with pytest.raises(BadFilter) as page_refusal:
            filter_sessions(MqttSession.objects.none(), params)
        assert response.status_code == 422 and response.json()["detail"] == str(page_refusal.value)
