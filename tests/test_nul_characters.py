"""U+0000 anywhere in a request is refused with a message, never a 500."""

from __future__ import annotations

from users.models import MqttUser


def test_a_nul_in_an_api_query_or_path_is_400(api):
    for path in ("/tokens?user=a%00b", "/users/a%00b", "/users?q=%00"):
        response = api.get(path)
        assert response.status_code == 400, path
        assert "NUL character" in response.json()["detail"]


def test_a_nul_in_a_json_string_is_422(api):
    response = api.post("/users", {"name": "ok", "description": "bad\x00"})
    assert response.status_code == 422
    assert "NUL character" in response.json()["detail"]
    assert not MqttUser.objects.exists()


def test_a_nul_in_a_page_url_is_400(org_a, client_for):
    response = client_for(org_a.owner).get(f"/o/{org_a.org.id}/users/?q=%00")
    assert response.status_code == 400
