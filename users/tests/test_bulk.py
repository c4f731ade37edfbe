"""Bulk actions of the users and tokens lists: all of the selection or none of it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from acls.models import RuleSetAssignment
from audit.models import AuditEvent
from audit.services import Actor
from sessions.models import Revocation
from users.models import MqttUser, TempToken
from users.services import user_create
from users.tokens import token_mint

ACTOR = Actor.system()


def _url(world, name):
    return reverse(name, kwargs={"org_id": world.org.id})


@pytest.fixture
def three(org_a):
    return [user_create(org=org_a.org, name=f"dev-{i}", actor=ACTOR)[0] for i in range(3)]


def test_disable_then_enable_the_checked_users(org_a, client_for, three):
    client = client_for(org_a.admin)
    listing = _url(org_a, "users:list") + "?q=dev"
    data = {"action": "disable", "name": ["dev-0", "dev-2"], "next": listing}
    response = client.post(_url(org_a, "users:bulk"), data)
    assert response.status_code == 302 and response["Location"] == listing
    assert set(MqttUser.objects.filter(enabled=False).values_list("name", flat=True)) == {"dev-0", "dev-2"}
    assert Revocation.objects.filter(reason="user_disabled").count() == 2
    assert AuditEvent.objects.filter(action="mqtt_user.disabled").count() == 2
    client.post(_url(org_a, "users:bulk"), {"action": "enable", "name": ["dev-0", "dev-1"]})
    assert list(MqttUser.objects.filter(enabled=False).values_list("name", flat=True)) == ["dev-2"]
    page = client.get(_url(org_a, "users:list")).content.decode()
    assert "1 MQTT user enabled. 1 already was." in page


def test_bulk_delete_asks_for_the_count_first(org_a, client_for, three):
    client = client_for(org_a.admin)
    data = {"action": "delete", "name": ["dev-0", "dev-1"]}
    page = client.post(_url(org_a, "users:bulk"), data)
    assert page.status_code == 200 and "Delete 2 MQTT users?" in page.content.decode()
    assert MqttUser.objects.count() == 3
    wrong = client.post(_url(org_a, "users:bulk"), {**data, "confirm": "3"})
    assert "Type the number 2" in wrong.content.decode() and MqttUser.objects.count() == 3
    done = client.post(_url(org_a, "users:bulk"), {**data, "confirm": "2"})
    assert done.status_code == 302
    assert list(MqttUser.objects.values_list("name", flat=True)) == ["dev-2"]
    assert AuditEvent.objects.filter(action="mqtt_user.deleted").count() == 2


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"action": "disable"}, "Select at least one MQTT user"),
        ({"action": "disable", "name": ["dev-0", "nobody"]}, "No MQTT user nobody here"),
        ({"action": "drop", "name": ["dev-0"]}, "Choose one of"),
        ({"action": "disable", "name": [f"n{i}" for i in range(101)]}, "at most 100"),
    ],
)
def test_a_selection_that_cannot_be_acted_on_in_full_changes_nothing(org_a, client_for, three, data, words):
    client = client_for(org_a.admin)
    response = client.post(_url(org_a, "users:bulk"), data)
    assert response.status_code == 302
    assert words in client.get(response["Location"]).content.decode()
    assert not MqttUser.objects.filter(enabled=False).exists() and not Revocation.objects.exists()


def test_another_orgs_users_in_a_selection_refuse_it_all(org_a, org_b, client_for, three):
    """A name of org B's user posted to org A's list names nothing of B's: nothing happens."""
    theirs = user_create(org=org_b.org, name="theirs", actor=ACTOR)[0]
    client = client_for(org_a.admin)
    client.post(_url(org_a, "users:bulk"), {"action": "delete", "name": ["dev-0", "theirs"], "confirm": "2"})
    assert (
        MqttUser.objects.filter(pk=theirs.pk).exists() and MqttUser.objects.filter(org=org_a.org).count() == 3
    )


def test_an_auditor_cannot_act_in_bulk(org_a, client_for, three):
    client = client_for(org_a.auditor)
    assert client.post(_url(org_a, "users:bulk"), {"action": "disable", "name": ["dev-0"]}).status_code == 403
    assert (
        client.post(_url(org_a, "acls:bulk_assign"), {"rule_set": "x", "name": ["dev-0"]}).status_code == 403
    )
    assert "bulk-users" not in client.get(_url(org_a, "users:list")).content.decode()


def test_assign_a_rule_set_to_the_checked_users(org_a, client_for, three):
    rule_set = org_a.rule_set
    client = client_for(org_a.admin)
    fragment = client.get(_url(org_a, "acls:bulk_assign")).content.decode()
    assert f'<option value="{rule_set.name}">' in fragment
    data = {"rule_set": rule_set.name, "name": ["dev-0", "dev-1"]}
    client.post(_url(org_a, "acls:bulk_assign"), data)
    response = client.post(_url(org_a, "acls:bulk_assign"), {**data, "name": ["dev-1", "dev-2"]})
    assert "assigned to 1 user. 1 had it already." in client.get(response["Location"]).content.decode()
    assigned = RuleSetAssignment.objects.filter(rule_set=rule_set).values_list("user__name", flat=True)
    assert sorted(assigned) == ["dev-0", "dev-1", "dev-2"]
    assert Revocation.objects.filter(reason="acl_changed").count() == 3  # live sessions get the new ACL


def test_assigning_an_unknown_or_another_orgs_rule_set_changes_nothing(org_a, org_b, client_for, three):
    theirs = org_b.rule_set
    client = client_for(org_a.admin)
    for name in (theirs.name, "missing"):
        response = client.post(_url(org_a, "acls:bulk_assign"), {"rule_set": name, "name": ["dev-0"]})
        page = client.get(response["Location"]).content.decode()
        assert f"No rule set named &#x27;{name}&#x27;" in page
    assert not RuleSetAssignment.objects.filter(user__org=org_a.org).exists()


def test_revoke_the_checked_tokens(org_a, org_b, client_for):
    user = org_a.mqtt_user
    mine = [token_mint(org=org_a.org, user=user, actor=ACTOR)[0] for _ in range(3)]
    theirs = token_mint(org=org_b.org, user=org_b.mqtt_user, actor=ACTOR)[0]
    client = client_for(org_a.admin)
    url = _url(org_a, "tokens:bulk_revoke")
    refused = client.post(url, {"token": [mine[0].id, theirs.id]})
    assert "No token" in client.get(refused["Location"]).content.decode()
    assert TempToken.objects.with_status("active").count() == 4
    response = client.post(url, {"token": [mine[0].id, mine[1].id]})
    assert "Revoked 2 tokens" in client.get(response["Location"]).content.decode()
    assert set(TempToken.objects.with_status("active").values_list("id", flat=True)) == {
        mine[2].id,
        theirs.id,
    }
    again = client.post(url, {"token": [mine[0].id]})
    assert "Revoked 0 tokens; " in client.get(again["Location"]).content.decode()
