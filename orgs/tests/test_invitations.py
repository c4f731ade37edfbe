"""Invitations: the invited account consents; the link works once, for a while, for the
email it was sent to; inviting reveals nothing about which emails have accounts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from conftest import make_user, recently_authenticated
from orgs.models import Invitation, Membership

# The mail leaves when the invitation commits: these tests commit.
pytestmark = pytest.mark.django_db(transaction=True)


def _invite(client, world, email, role="admin"):
    return client.post(
        reverse("orgs:members", kwargs={"org_id": world.org.id}), {"email": email, "role": role}
    )


def _link(email: str) -> str:
    (message,) = [m for m in mail.outbox if m.to == [email]]
    return re.search(r"https?://[^/\s]+(/invitations/\S+/)", message.body)[1]


@pytest.fixture
def owner(org_a):
    signed_in = Client()
    signed_in.force_login(org_a.owner)
    recently_authenticated(signed_in, org_a.owner)
    return signed_in


@pytest.fixture
def visitor():
    """The invited person's browser: not the owner's."""
    return Client()


def test_an_invited_account_sees_who_invited_it_and_joins_on_accept(org_a, owner, visitor):
    invitee = make_user("new@example.com")
    _invite(owner, org_a, "New@Example.com", "auditor")
    assert not Membership.objects.filter(user=invitee).exists()  # nothing without consent
    link = _link("new@example.com")
    visitor.force_login(invitee)
    page = visitor.get(link).content.decode()
    assert org_a.org.name in page and org_a.owner.email in page and "auditor" in page
    response = visitor.post(link, {"op": "accept"})
    assert response.status_code == 302
    assert Membership.objects.get(user=invitee, org=org_a.org).role == "auditor"
    added = AuditEvent.objects.get(action="member.added", org=org_a.org, details__invitation__isnull=False)
    assert added.actor_label == "new@example.com"
    # Used once: the same link again changes nothing.
    again = visitor.post(link, {"op": "accept"})
    assert again.status_code == 409 and "accepted" in again.content.decode()


def test_the_answer_to_the_owner_is_the_same_with_or_without_an_account(org_a, owner):
    make_user("has-account@example.com")
    with_account = _invite(owner, org_a, "has-account@example.com")
    without = _invite(owner, org_a, "nobody@example.com")
    assert with_account.status_code == without.status_code == 302
    page = owner.get(with_account["Location"]).content.decode()
    assert "Invitation sent to nobody@example.com" in page
    assert {m.to[0] for m in mail.outbox} == {"has-account@example.com", "nobody@example.com"}


def test_only_the_invited_emails_verified_account_can_accept(org_a, owner, visitor):
    _invite(owner, org_a, "victim@example.com")
    link = _link("victim@example.com")
    other = make_user("attacker@example.com")
    visitor.force_login(other)
    refused = visitor.post(link, {"op": "accept"})
    assert refused.status_code == 409 and "sign in with that address" in refused.content.decode()
    unverified = make_user("victim2@example.com", verified=False)
    _invite(owner, org_a, "victim2@example.com")
    visitor.force_login(unverified)
    assert visitor.post(_link("victim2@example.com"), {"op": "accept"}).status_code == 409
    assert not Membership.objects.filter(user__in=[other, unverified]).exists()


@pytest.mark.parametrize("tamper", ["token", "id", "both"])
def test_a_tampered_link_gets_one_answer(org_a, owner, visitor, tamper):
    _invite(owner, org_a, "new@example.com")
    link = _link("new@example.com")
    _, _, invitation_id, token, _ = link.split("/")
    other_id = "inv_" + "a" * 16
    parts = {
        "token": (invitation_id, token[:-2] + "xx"),
        "id": (other_id, token),
        "both": (other_id, "x" * 43),
    }[tamper]
    response = visitor.get(f"/invitations/{parts[0]}/{parts[1]}/")
    assert response.status_code == 404 and "not valid" in response.content.decode()
    assert visitor.post(f"/invitations/{parts[0]}/{parts[1]}/", {"op": "decline"}).status_code == 404
    assert Invitation.objects.get().status == "pending"


def test_decline_expired_and_withdrawn_links(org_a, owner, visitor):
    _invite(owner, org_a, "a@example.com")
    declined = visitor.post(_link("a@example.com"), {"op": "decline"})
    assert declined.status_code == 302 and Invitation.objects.get(email="a@example.com").status == "declined"
    assert AuditEvent.objects.filter(action="member.invitation_declined").count() == 1
    _invite(owner, org_a, "b@example.com")
    Invitation.objects.filter(email="b@example.com").update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = visitor.get(_link("b@example.com"))
    assert expired.status_code == 410 and "expired" in expired.content.decode()
    make_user("c@example.com")
    _invite(owner, org_a, "c@example.com")
    invitation = Invitation.objects.get(email="c@example.com")
    url = reverse("orgs:invitation_withdraw", kwargs={"org_id": org_a.org.id, "invitation_id": invitation.id})
    owner.post(url)
    visitor.force_login(make_user("c2@example.com"))
    assert visitor.get(_link("c@example.com")).status_code == 410


def test_a_new_invitation_replaces_the_pending_one(org_a, owner):
    _invite(owner, org_a, "new@example.com", "auditor")
    first = _link("new@example.com")
    mail.outbox.clear()
    _invite(owner, org_a, "new@example.com", "admin")
    assert first != _link("new@example.com")
    assert list(Invitation.objects.pending().values_list("role", flat=True)) == ["admin"]


def test_only_owners_invite_and_members_are_not_invited_twice(org_a, client_for):
    admin = client_for(org_a.admin)
    assert _invite(admin, org_a, "x@example.com").status_code == 403
    owner = client_for(org_a.owner)
    again = _invite(owner, org_a, org_a.auditor.email)
    assert again.status_code == 422 and "already a member" in again.content.decode()
    assert not Invitation.objects.exists() and not mail.outbox


def test_another_orgs_owner_cannot_withdraw_our_invitation(org_a, org_b, client_for):
    invitation = org_a.invitation
    url = reverse("orgs:invitation_withdraw", kwargs={"org_id": org_b.org.id, "invitation_id": invitation.id})
    assert client_for(org_b.owner).post(url).status_code == 404
    assert Invitation.objects.get(pk=invitation.pk).status == "pending"


def test_the_token_is_kept_as_a_digest_only(org_a, owner):
    _invite(owner, org_a, "new@example.com")
    token = _link("new@example.com").split("/")[3]
    invitation = Invitation.objects.get()
    assert token not in invitation.token_digest and len(invitation.token_digest) == 64
    assert token not in str(AuditEvent.objects.filter(org=org_a.org).values_list("details", flat=True))
