"""Control characters anywhere in a request are refused with a message, never a 500 and
never stored (core.text: line breaks stay allowed in form text)."""

from __future__ import annotations

import pytest

from acls.models import RuleSet
from audit.models import AuditEvent
from users.models import MqttUser


def test_a_nul_in_an_api_query_or_path_is_400(api):
    for path in ("/tokens?user=a%00b", "/users/a%00b", "/users?q=%00", "/users?q=a%1bb", "/audit?action=%07"):
        response = api.get(path)
        assert response.status_code == 400, path
        assert "control character" in response.json()["detail"]


@pytest.mark.parametrize("bad", ["bad\x00", "bell\x07", "esc\x1b[31m", "del\x7f", "c1\x85"])
def test_a_control_character_in_a_json_string_is_422(api, bad):
    response = api.post("/users", {"name": "ok", "description": bad})
    assert response.status_code == 422
    assert "control character" in response.json()["detail"] or "NUL character" in response.json()["detail"]
    assert not MqttUser.objects.exists()


def test_line_breaks_are_text_not_control(api):
    assert api.post("/users", {"name": "ok", "description": "two\nlines\tand a tab"}).status_code == 201


def test_a_control_character_in_a_page_url_is_400(org_a, client_for):
    client = client_for(org_a.owner)
    for query in ("q=%00", "q=a%0Ab", "since=%1b"):
        response = client.get(f"/o/{org_a.org.id}/users/?{query}")
        assert response.status_code == 400 and "control character" in response.content.decode(), query
    assert client.get(f"/o/{org_a.org.id}/audit/?actor=%00").status_code == 400


@pytest.mark.parametrize("value", ["a\x00b", "ansi \x1b[2J", "nul at end\x00"])
def test_a_control_character_in_a_form_field_is_400_and_nothing_is_stored(org_a, client_for, value):
    client = client_for(org_a.admin)
    before = AuditEvent.objects.count()
    response = client.post(f"/o/{org_a.org.id}/acls/sets/new/", {"name": "fleet", "description": value})
    assert response.status_code == 400 and "control character" in response.content.decode()
    assert "form field 'description'" in response.content.decode()
    assert not RuleSet.objects.filter(org=org_a.org).exists() and AuditEvent.objects.count() == before
    # The same form with a line break in its text goes through.
    ok = client.post(f"/o/{org_a.org.id}/acls/sets/new/", {"name": "fleet", "description": "one\r\ntwo"})
    assert ok.status_code in (200, 302) and RuleSet.objects.filter(org=org_a.org, name="fleet").exists()
