from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import Actor, Subject, record_event


def _url(world, name="audit:log"):
    return reverse(name, kwargs={"org_id": world.org.id})


def _events(world, n: int):
    for i in range(n):
        record_event(
            world.org,
            "auth.failure" if i % 3 == 0 else "auth.success",
            actor=Actor("mqtt_user", str(i), f"dev-{i}@x"),
            subject=Subject("mqtt_user", str(i), f"dev-{i}"),
            peer_ip=f"203.0.113.{i % 5}",
            outcome="failure" if i % 3 == 0 else "success",
            details={"reason": "bad_secret" if i % 3 == 0 else "secret"},
        )


def test_filters_and_keyset_pages(org_a, org_b, client_for):
    _events(org_a, 120)
    _events(org_b, 5)
    client = client_for(org_a.auditor)
    first = client.get(_url(org_a), {"action": "auth."}).content.decode()
    assert first.count("auth.") >= 50 and "after=" in first
    cursor = first.split("after=")[1].split('"')[0]
    second = client.get(_url(org_a), {"action": "auth.", "after": cursor}).content.decode()
    third_cursor = second.split("after=")[1].split('"')[0]
    third = client.get(_url(org_a), {"action": "auth.", "after": third_cursor}).content.decode()
    assert "Older</a>" not in third and "Newest</a>" in third
    failures = client.get(_url(org_a), {"outcome": "failure", "ip": "203.0.113.0"}).content.decode()
    assert "bad_secret" in failures and "success</span>" not in failures


def test_bad_filters_get_a_message(org_a, client_for):
    client = client_for(org_a.auditor)
    for params, message in [
        ({"ip": "nope"}, "is not an IP address"),
        ({"since": "yesterday"}, "since must be"),
        ({"outcome": "maybe"}, "success or failure"),
        ({"after": "x_y"}, "not valid any more"),
    ]:
        response = client.get(_url(org_a), params)
        assert response.status_code == 400 and message in response.content.decode(), params


def test_time_range(org_a, client_for):
    old, new = Subject("api_key", "k1", "the-old-key"), Subject("api_key", "k2", "the-new-key")
    record_event(
        org_a.org, "api_key.created", actor=Actor.system(), subject=old, at=timezone.now() - timedelta(days=3)
    )
    record_event(org_a.org, "api_key.revoked", actor=Actor.system(), subject=new)
    since = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    page = client_for(org_a.auditor).get(_url(org_a), {"since": since}).content.decode()
    assert "the-new-key" in page and "the-old-key" not in page


def test_exports_stream_the_filtered_log(org_a, org_b, client_for):
    _events(org_a, 30)
    _events(org_b, 3)
    client = client_for(org_a.auditor)
    response = client.get(_url(org_a, "audit:export_csv"), {"outcome": "failure"})
    assert response.streaming and response["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 10 and {r["outcome"] for r in rows} == {"failure"}
    assert json.loads(rows[0]["details"]) == {"reason": "bad_secret"}
    lines = b"".join(client.get(_url(org_a, "audit:export_jsonl")).streaming_content).decode().splitlines()
    *events, trailer = lines  # the last line is the chain's signed head
    assert len(events) == AuditEvent.objects.filter(org=org_a.org).count()
    assert all(json.loads(line)["action"] for line in events)
    assert json.loads(trailer)["chain_head"]["org"] == org_a.org.id
    assert client.get(_url(org_a, "audit:export_csv"), {"ip": "x"}).status_code == 400


def test_keyset_cursors_are_exact_to_the_microsecond(org_a):
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from core import keyset

    for at in (
        datetime(2026, 11, 29, 6, 43, 53, 999_999, tzinfo=UTC),
        datetime(2031, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
    ):
        assert keyset._decode(keyset.cursor_of(SimpleNamespace(at=at, pk=5), "at")) == (at, 5)
    # Events one microsecond apart across a page boundary: none skipped, none repeated.
    base = datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC)
    for i in range(7):
        at = base + timedelta(microseconds=i // 2)
        record_event(org_a.org, "token.minted", actor=Actor.system(), at=at, details={"tick": i})
    from audit.selectors import page_of

    seen, cursor = [], None
    while True:
        rows, cursor = page_of(AuditEvent.objects.filter(org=org_a.org, action="token.minted"), cursor, 2)
        seen += [r.details["tick"] for r in rows]
        if cursor is None:
            break
    assert sorted(seen) == list(range(7))


def test_an_events_url_is_its_place_in_the_orgs_chain(org_a, org_b, client_for):
    _events(org_b, 5)  # another org's events: they do not move org A's numbers
    _events(org_a, 3)
    event = AuditEvent.objects.filter(org=org_a.org).order_by("-seq").first()
    url = reverse("audit:detail", kwargs={"org_id": org_a.org.id, "seq": event.seq})
    assert url.endswith(f"/audit/{event.seq}/")
    page = client_for(org_a.auditor).get(url).content.decode()
    assert f"Event #{event.seq}" in page and event.subject_label in page
    log = client_for(org_a.auditor).get(_url(org_a)).content.decode()
    assert f'href="{url}"' in log
    missing = reverse("audit:detail", kwargs={"org_id": org_a.org.id, "seq": event.seq + 1000})
    assert client_for(org_a.auditor).get(missing).status_code == 404


def test_the_action_filter_lists_every_action_in_a_group_and_refuses_others(org_a, client_for):
    from audit.models import ACTION_GROUPS, Action

    assert all(any(a.value.startswith(prefix) for prefix in ACTION_GROUPS) for a in Action)
    client = client_for(org_a.auditor)
    page = client.get(_url(org_a)).content.decode()
    assert '<option value="auth.">All: MQTT authentication</option>' in page
    assert '<option value="token.minted">Token minted</option>' in page
    for bad in ("auth", "no.such", "token.mint"):
        response = client.get(_url(org_a), {"action": bad})
        assert response.status_code == 400 and "action must be one of" in response.content.decode(), bad
    nothing = client.get(_url(org_a), {"action": "alert.resolved"}).content.decode()
    assert "No event matches these filters" in nothing and "No events yet" not in nothing


def test_the_event_page_shows_values_as_json_and_names_the_action(org_a, client_for):
    event = record_event(
        org_a.org,
        "acl.user_saved",
        actor=Actor.system(),
        subject=Subject("mqtt_user", "u1", "dev"),
        before={"rules": [{"topic": "a/b"}]},
        after={"rules": [{"topic": "a/c"}], "enabled": True},
    )
    page = client_for(org_a.auditor).get(
        reverse("audit:detail", kwargs={"org_id": org_a.org.id, "seq": event.seq})
    )
    body = page.content.decode()
    assert "User&#x27;s ACL saved" in body and "(MQTT user)" in body
    assert "&quot;topic&quot;: &quot;a/c&quot;" in body and "{&#x27;topic&#x27;" not in body  # JSON, not repr
    assert "true" in body
