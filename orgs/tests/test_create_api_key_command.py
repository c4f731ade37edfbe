from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from orgs.api_keys import api_key_authenticate
from orgs.models import ApiKey


def _run(*args) -> str:
    out = StringIO()
    call_command("create_api_key", *args, stdout=out)
    return out.getvalue().strip()


def test_it_prints_the_key_once_as_json_and_it_authenticates(org_a):
    value = json.loads(_run(org_a.org.id, "ci", "--json"))["key"]
    key = api_key_authenticate(value)
    assert key.org == org_a.org and key.scopes == ["tokens:mint"]
    assert value not in key.secret_digest
    assert AuditEvent.objects.get(action="api_key.created").actor_label == "create_api_key command"


def test_scopes_can_be_given(org_a):
    value = _run(org_a.org.id, "admin", "--scope", "manage", "--scope", "tokens:mint")
    assert value.startswith("sk_")
    assert ApiKey.objects.get().scopes == ["manage", "tokens:mint"]


@pytest.mark.parametrize(
    "args, message",
    [(("org_aaaaaaaaaaaa", "x"), "No organization"), (("{org}", "  "), "Give the key a name")],
)
def test_bad_input_is_refused(org_a, args, message):
    with pytest.raises(CommandError, match=message):
        _run(*[a.format(org=org_a.org.id) for a in args])
    assert not ApiKey.objects.exists()
