from __future__ import annotations

from django.urls import reverse

from audit.models import AuditEvent
from orgs.api_keys import api_key_authenticate
from orgs.models import ApiKey


def _url(url_name, world, **kwargs):
    return reverse(url_name, kwargs={"org_id": world.org.id, **kwargs})


def test_an_admin_creates_a_key_and_sees_it_once(org_a, client_for):
    client = client_for(org_a.admin)
    response = client.post(
        _url("orgs:api_key_create", org_a), {"name": "web", "scopes": ["tokens:mint"]}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    value = response.content.decode().split('data-testid="api-key-value">')[1].split("<")[0]
    key = api_key_authenticate(value)
    assert key.org == org_a.org and key.scopes == ["tokens:mint"]
    listing = client.get(_url("orgs:api_keys", org_a)).content.decode()
    assert key.display_prefix in listing and value not in listing
    event = AuditEvent.objects.get(action="api_key.created")
    assert value not in str(event.details)


def test_bad_input_is_explained_and_nothing_is_created(org_a, client_for):
    client = client_for(org_a.admin)
    no_scope = client.post(_url("orgs:api_key_create", org_a), {"name": "web"})
    assert no_scope.status_code == 422 and "This field is required" in no_scope.content.decode()
    bad_scope = client.post(_url("orgs:api_key_create", org_a), {"name": "web", "scopes": ["root"]})
    assert "Select a valid choice" in bad_scope.content.decode()
    blank = client.post(_url("orgs:api_key_create", org_a), {"name": "  ", "scopes": ["manage"]})
    assert blank.status_code == 422
    assert not ApiKey.objects.exists()


def test_revoke_makes_the_key_fail_and_auditors_cannot(org_a, client_for):
    key = org_a.api_key
    assert (
        client_for(org_a.auditor).post(_url("orgs:api_key_revoke", org_a, key_id=key.id)).status_code == 403
    )
    assert client_for(org_a.admin).post(_url("orgs:api_key_revoke", org_a, key_id=key.id)).status_code == 302
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    assert AuditEvent.objects.filter(action="api_key.revoked").count() == 1
