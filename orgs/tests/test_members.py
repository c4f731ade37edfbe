from __future__ import annotations

from django.urls import reverse

from audit.models import AuditEvent
from conftest import make_user
from orgs.models import Membership, Role


def _members_url(world):
    return reverse("orgs:members", kwargs={"org_id": world.org.id})


def _role_url(world, m):
    return reverse("orgs:member_role", kwargs={"org_id": world.org.id, "member_id": m.pk})


def _remove_url(world, m):
    return reverse("orgs:member_remove", kwargs={"org_id": world.org.id, "member_id": m.pk})


def test_owner_invites_instead_of_adding_an_account_without_its_consent(org_a, client_for):
    """Issue 15: an owner could add any existing account; now that account is only invited."""
    newcomer = make_user("newcomer@example.com")
    response = client_for(org_a.owner).post(
        _members_url(org_a), {"email": "NewComer@Example.com", "role": "auditor"}
    )
    assert response.status_code == 302
    assert not Membership.objects.filter(org=org_a.org, user=newcomer).exists()
    event = AuditEvent.objects.get(org=org_a.org, action="member.invited")
    assert event.details["email"] == "newcomer@example.com" and event.details["role"] == "auditor"


def test_adding_someone_twice_or_with_a_bad_role_is_refused(org_a, client_for):
    client = client_for(org_a.owner)
    twice = client.post(_members_url(org_a), {"email": org_a.admin.email, "role": "admin"})
    assert "already a member" in twice.content.decode()
    bad_role = client.post(_members_url(org_a), {"email": org_a.admin.email, "role": "superuser"})
    assert "Select a valid choice" in bad_role.content.decode()
    assert Membership.objects.filter(org=org_a.org).count() == 3


def test_admins_cannot_manage_members(org_a, client_for):
    client = client_for(org_a.admin)
    make_user("x@example.com")
    assert client.get(_members_url(org_a)).status_code == 200
    assert client.post(_members_url(org_a), {"email": "x@example.com", "role": "owner"}).status_code == 403
    auditor = org_a.membership(org_a.auditor)
    assert client.post(_role_url(org_a, auditor), {"role": "owner"}).status_code == 403
    assert client.post(_remove_url(org_a, auditor)).status_code == 403
    assert org_a.membership(org_a.auditor).role == Role.AUDITOR


def test_owner_changes_a_role_through_htmx_and_gets_the_row_back(org_a, client_for):
    admin = org_a.membership(org_a.admin)
    response = client_for(org_a.owner).post(
        _role_url(org_a, admin), {"role": "auditor"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.strip().startswith(f'<tr id="member-{admin.pk}"')
    assert '<option value="auditor" selected>' in body
    assert org_a.membership(org_a.admin).role == Role.AUDITOR
    event = AuditEvent.objects.get(org=org_a.org, action="member.role_changed")
    assert (event.details["before"], event.details["after"]) == ({"role": "admin"}, {"role": "auditor"})


def test_the_last_owner_cannot_be_demoted_or_removed(org_a, client_for):
    client = client_for(org_a.owner)
    owner = org_a.membership(org_a.owner)
    demote = client.post(_role_url(org_a, owner), {"role": "admin"}, HTTP_HX_REQUEST="true")
    assert demote.status_code == 422
    assert "is the last owner" in demote.content.decode()
    remove = client.post(_remove_url(org_a, owner), follow=True)
    assert "is the last owner and cannot be removed" in remove.content.decode()
    assert org_a.membership(org_a.owner).role == Role.OWNER


def test_with_a_second_owner_the_first_may_step_down(org_a, client_for):
    client = client_for(org_a.owner)
    client.post(_role_url(org_a, org_a.membership(org_a.admin)), {"role": "owner"})
    response = client.post(_role_url(org_a, org_a.membership(org_a.owner)), {"role": "admin"})
    assert response.status_code == 302
    assert org_a.membership(org_a.owner).role == Role.ADMIN


def test_owner_removes_a_member_and_it_is_audited(org_a, client_for):
    auditor = org_a.membership(org_a.auditor)
    assert client_for(org_a.owner).post(_remove_url(org_a, auditor)).status_code == 302
    assert not Membership.objects.filter(pk=auditor.pk).exists()
    event = AuditEvent.objects.get(org=org_a.org, action="member.removed")
    assert event.subject_label == org_a.auditor.email
    assert event.details["before"]["role"] == "auditor"
