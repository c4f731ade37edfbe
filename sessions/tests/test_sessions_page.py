from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from sessions.models import MqttSession, Revocation


def _session(
    world, client_id: str, ms: int, *, live: bool = True, transport: str = "mqtts", ip="198.51.100.4"
):
    return MqttSession.objects.create(
        org=world.org,
        username=f"dev@{world.org.id}",
        client_id=client_id,
        connected_at_ms=ms,
        connected_at=timezone.now(),
        transport=transport,
        peer_ip=ip,
        disconnected_at=None if live else timezone.now(),
        disconnect_reason="" if live else "normal",
    )


def _url(world, name="sessions:list"):
    return reverse(name, kwargs={"org_id": world.org.id})


def test_the_list_filters_and_pages_by_keyset(org_a, org_b, client_for):
    for i in range(60):
        _session(
            org_a,
            f"c-{i:02d}",
            1_700_000_000_000 + i,
            live=i % 2 == 0,
            transport="mqtt" if i == 5 else "mqtts",
        )
    _session(org_b, "theirs", 1)
    client = client_for(org_a.auditor)
    first = client.get(_url(org_a)).content.decode()
    assert first.count('data-testid="session-row"') == 50 and "c-59" in first and "theirs" not in first
    assert 'data-testid="live-count">30<' in first
    assert first.count('data-testid="chart"') == 2 and "Connections" in first and "60 in all" in first
    assert "7 days" in client.get(_url(org_a), {"span": "7d"}).content.decode()
    cursor = first.split("before=")[1].split('"')[0]
    second = client.get(_url(org_a), {"before": cursor}).content.decode()
    assert second.count('data-testid="session-row"') == 10 and "c-00" in second and "c-59" not in second
    plain = client.get(_url(org_a), {"transport": "mqtt"}).content.decode()
    assert plain.count('data-testid="session-row"') == 1 and "c-05" in plain
    live = client.get(_url(org_a), {"live": "1"}).content.decode()
    assert 'hx-trigger="every 5s"' in live and live.count('data-testid="session-row"') == 30
    assert "No session matches" in client.get(_url(org_a), {"ip": "not-an-ip"}).content.decode()
    bad = client.get(_url(org_a), {"before": "garbage"})
    assert bad.status_code == 400 and "not valid any more" in bad.content.decode()


def test_an_admin_disconnects_a_live_session_through_the_revocation_feed(org_a, client_for):
    _session(org_a, "victim", 1)
    assert (
        client_for(org_a.auditor)
        .post(_url(org_a, "sessions:disconnect"), {"client_id": "victim"})
        .status_code
        == 403
    )
    response = client_for(org_a.admin).post(_url(org_a, "sessions:disconnect"), {"client_id": "victim"})
    assert response.status_code == 302
    revocation = Revocation.objects.get()
    assert (revocation.client_id, revocation.reason, revocation.kind) == (
        "victim",
        "admin_disconnect",
        "disconnect",
    )
    assert AuditEvent.objects.filter(action="mqtt.session_disconnected").count() == 1
    page = client_for(org_a.admin).post(
        _url(org_a, "sessions:disconnect"), {"client_id": "ghost"}, follow=True
    )
    assert "has no live connection" in page.content.decode()


def test_token_credential_and_time_filters_and_bad_values(org_a, client_for):
    from datetime import timedelta

    from django.urls import reverse
    from django.utils import timezone

    from sessions.models import MqttSession

    now = timezone.now()
    for i, (token, days) in enumerate([("tok_a", 0), ("", 0), ("", 3)]):
        MqttSession.objects.create(
            org=org_a.org,
            username=f"u{i}@{org_a.org.id}",
            client_id=f"filter-{i}",
            token_id=token,
            connected_at_ms=i + 1,
            connected_at=now - timedelta(days=days),
        )
    client = client_for(org_a.auditor)
    url = reverse("sessions:list", kwargs={"org_id": org_a.org.id})

    def clients(**params):
        page = client.get(url, params).content.decode()
        return {f"filter-{i}" for i in range(3) if f"filter-{i}<" in page or f">filter-{i}" in page}

    assert clients(token="tok_a") == {"filter-0"}
    assert clients(credential="secret") == {"filter-1", "filter-2"}
    assert clients(credential="token") == {"filter-0"}
    since = (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    assert clients(since=since) == {"filter-0", "filter-1"}
    assert clients(until=since) == {"filter-2"}
    for params, message in [
        ({"ip": "nope"}, "is not an IP address"),
        ({"since": "yesterday"}, "since must be"),
        ({"transport": "carrier-pigeon"}, "transport must be one of"),
        ({"credential": "maybe"}, "credential must be token or secret"),
    ]:
        response = client.get(url, params)
        assert response.status_code == 400 and message in response.content.decode(), params


def test_disconnect_returns_to_the_list_as_it_was_and_only_within_the_org(org_a, org_b, client_for):
    client = client_for(org_a.admin)
    listed = f"{_url(org_a)}?user=dev&transport=mqtts"
    _session(org_a, "one", 1)
    back = client.post(_url(org_a, "sessions:disconnect"), {"client_id": "one", "next": listed})
    assert back["Location"] == listed
    for n, elsewhere in enumerate(
        (f"{_url(org_b)}?x=1", "https://evil.example/", f"/o/{org_a.org.id}//evil.example/", "")
    ):
        _session(org_a, f"two-{n}", 2)
        away = client.post(_url(org_a, "sessions:disconnect"), {"client_id": f"two-{n}", "next": elsewhere})
        assert away["Location"] == _url(org_a), elsewhere


def test_the_chart_span_keeps_the_filters_and_the_filters_keep_the_span(org_a, client_for):
    page = client_for(org_a.admin).get(_url(org_a), {"user": "dev", "span": "7d", "before": "1_1"})
    body = page.content.decode()
    assert 'href="?user=dev&amp;span=24h"' in body or 'href="?user=dev&span=24h"' in body
    assert '<input type="hidden" name="span" value="7d">' in body


def test_a_time_range_that_ends_before_it_starts_is_refused_with_a_word(org_a, client_for, api):
    params = {"since": "2026-11-29T14:00", "until": "2026-11-29T13:00"}
    for name in ("sessions:list", "audit:log"):
        page = client_for(org_a.admin).get(_url(org_a, name), params)
        assert page.status_code == 400 and "since must be before until" in page.content.decode(), name
    answer = api.get("/sessions?since=2026-11-29T14:00&until=2026-11-29T13:00")
    assert answer.status_code == 422 and "since must be before until" in answer.json()["detail"]


def test_the_live_views_refresh_brings_the_connected_count_with_the_rows(org_a, client_for):
    _session(org_a, "a", 1)
    _session(org_a, "b", 2)
    _session(org_a, "c", 3, live=False)
    fragment = (
        client_for(org_a.admin)
        .get(_url(org_a), {"live": "1"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="session-rows")
        .content.decode()
    )
    assert '<strong id="live-count" data-testid="live-count" hx-swap-oob="true">2</strong>' in fragment
    page = client_for(org_a.admin).get(_url(org_a)).content.decode()
    assert page.count('<strong id="live-count"') == 1  # the whole page has it once, in the heading


def test_the_client_page_shows_what_the_broker_knows_and_disconnect_only_while_live(org_a, client_for):
    session = org_a.session  # MQTT 5, keepalive 30 s, clean start, one subscription
    url = reverse("sessions:detail", kwargs={"org_id": org_a.org.id, "session_id": session.pk})
    page = client_for(org_a.admin).get(url).content.decode()
    for shown in ("MQTT 5.0", "30 seconds", "yes: a new session", "when it disconnects", "192.0.2.7:50000"):
        assert shown in page
    assert f"{org_a.org.id}/in/#" in page and "connected now" in page and ">Disconnect<" in page
    assert ">Disconnect<" not in client_for(org_a.auditor).get(url).content.decode()  # auditors read
    session.disconnected_at, session.disconnect_reason = timezone.now(), "normal"
    session.save()
    page = client_for(org_a.admin).get(url).content.decode()
    assert "Subscriptions at disconnect" in page and "(normal)" in page and ">Disconnect<" not in page


def test_the_lists_link_each_connection_to_its_client_page(org_a, client_for):
    session = org_a.session
    link = reverse("sessions:detail", kwargs={"org_id": org_a.org.id, "session_id": session.pk})
    client = client_for(org_a.admin)
    assert link in client.get(_url(org_a)).content.decode()
    user_page = reverse("users:detail", kwargs={"org_id": org_a.org.id, "name": org_a.mqtt_user.name})
    overview = client.get(user_page).content.decode()
    assert link in overview and "Connected now" in overview and ">Disconnect<" in overview
    assert link in client.get(user_page + "?tab=sessions").content.decode()


def test_disconnect_from_the_user_page_returns_to_it(org_a, client_for):
    session = org_a.session
    user_page = reverse("users:detail", kwargs={"org_id": org_a.org.id, "name": org_a.mqtt_user.name})
    response = client_for(org_a.admin).post(
        _url(org_a, "sessions:disconnect"), {"client_id": session.client_id, "next": user_page}
    )
    assert response.status_code == 302 and response["Location"] == user_page
    assert Revocation.objects.filter(org=org_a.org, client_id=session.client_id).count() == 1
