from __future__ import annotations

import json
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from audit.models import AuditEvent
from orgs.models import Membership, Organization, Role

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = StringIO()
    call_command("create_org", *args, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def test_it_creates_the_org_and_the_owner_account_and_prints_the_id():
    org_id = _run("Acme", "--owner", "ops@example.com", "--password", "a-long-enough-pass-7")
    assert re.fullmatch(r"org_[a-z2-7]{12}", org_id)
    user = User.objects.get(email="ops@example.com")
    assert user.check_password("a-long-enough-pass-7")
    assert user.password.startswith("argon2$")
    assert Membership.objects.get(org_id=org_id, user=user).role == Role.OWNER
    created = AuditEvent.objects.get(org_id=org_id, action="org.created")
    assert created.actor_type == "system"


def test_json_output_and_an_existing_owner():
    User.objects.create_user(email="ops@example.com", password=None)
    result = json.loads(_run("Second", "--owner", "OPS@example.com", "--json"))
    assert result["owner"] == "ops@example.com"
    assert Organization.objects.get(pk=result["org_id"]).name == "Second"


@pytest.mark.parametrize(
    "args, message",
    [
        (("Acme", "--owner", "not-an-email"), "is not an email address"),
        (("  ", "--owner", "ops@example.com"), "Give the organization a name."),
        (("Acme", "--owner", "ops@example.com", "--password", "123"), "too short"),
        (("Ac\x00me", "--owner", "ops@example.com"), "Null characters are not allowed"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_created(args, message):
    with pytest.raises(CommandError, match=message):
        _run(*args)
    assert not Organization.objects.exists()
    assert not User.objects.exists()
