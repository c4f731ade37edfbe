"""Invitations: an owner invites an email to a role; the account that verified that email
accepts (or declines) through a link that works once and expires (INVITATION_DAYS).

The link carries the invitation's id and a 256-bit token; only the token's digest is kept
(``core.credentials``). The owner's answer is the same whether or not the email has an
account, so inviting is no way to learn who has one.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from audit.models import Action, SubjectType
from audit.services import Actor, Subject, record_event
from core import credentials

from .models import Invitation, Membership, Organization, Role


class InvalidInvitation(Exception):
    """The link names no invitation, or not with this token: one answer for both."""


def _subject(invitation: Invitation) -> Subject:
    return Subject(SubjectType.INVITATION, invitation.pk, f"{invitation.email} as {invitation.role}")


def link_path(invitation: Invitation, token: str) -> str:
    return reverse("invitation", kwargs={"invitation_id": invitation.pk, "token": token})


@transaction.atomic
def invite(*, org: Organization, email: str, role: str, inviter, request=None) -> tuple[Invitation, str]:
    """Invite ``email`` as ``role`` and mail the link; a pending invitation of the same email
    is replaced (its link stops working). Returns the invitation and the link's token."""
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": "Enter the email address the person signs in with."}) from None
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}: choose owner, admin or auditor."})
    Organization.objects.select_for_update().filter(pk=org.pk).first()
    if Membership.objects.filter(org=org, user__email__iexact=email).exists():
        raise ValidationError({"email": f"{email} is already a member of this organization."})
    now = timezone.now()
    Invitation.objects.filter(org=org, email=email).pending(now).update(revoked_at=now)
    token = credentials.new_secret()
    invitation = Invitation.objects.create(
        org=org,
        email=email,
        role=role,
        invited_by=inviter,
        invited_by_label=inviter.email,
        token_digest=credentials.digest(token),
        expires_at=now + timedelta(days=settings.INVITATION_DAYS),
    )
    record_event(
        org,
        Action.MEMBER_INVITED,
        actor=Actor.member(inviter),
        subject=_subject(invitation),
        request=request,
        details={"email": email, "role": role, "expires_at": invitation.expires_at.isoformat()},
    )
    url = (
        request.build_absolute_uri(link_path(invitation, token)) if request else link_path(invitation, token)
    )
    context = {"invitation": invitation, "url": url, "days": settings.INVITATION_DAYS}
    transaction.on_commit(
        lambda: send_mail(
            render_to_string("orgs/email/invitation_subject.txt", context).strip(),
            render_to_string("orgs/email/invitation_message.txt", context),
            None,
            [email],
        )
    )
    return invitation, token


def find(invitation_id: str, token: str) -> Invitation:
    """The invitation this link names, whatever its state; InvalidInvitation otherwise."""
    invitation = Invitation.objects.select_related("org").filter(pk=invitation_id).first()
    if invitation is None or not credentials.verify(token, invitation.token_digest):
        raise InvalidInvitation
    return invitation


def _usable(invitation: Invitation) -> None:
    if invitation.status != "pending":
        raise ValidationError(
            f"This invitation was {invitation.status}; ask {invitation.invited_by_label} for a new one."
        )


def verified_email_of(user, email: str) -> bool:
    from allauth.account.models import EmailAddress

    return EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists()


@transaction.atomic
def accept(*, invitation_id: str, token: str, user, request=None) -> Membership:
    """The invited account joins with the invited role; the link is used up."""
    invitation = find(invitation_id, token)
    invitation = (
        Invitation.objects.select_for_update(of=("self",)).select_related("org").get(pk=invitation.pk)
    )
    _usable(invitation)
    if not verified_email_of(user, invitation.email):
        raise ValidationError(
            f"This invitation is for {invitation.email}; sign in with that address (verified) to accept it."
        )
    try:
        with transaction.atomic():
            membership = Membership.objects.create(org=invitation.org, user=user, role=invitation.role)
    except IntegrityError:
        raise ValidationError(f"You are already a member of {invitation.org.name}.") from None
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    record_event(
        invitation.org,
        Action.MEMBER_ADDED,
        actor=Actor.member(user),
        subject=Subject(SubjectType.MEMBERSHIP, membership.pk, user.email),
        request=request,
        after={"email": user.email, "role": invitation.role},
        details={"invitation": invitation.pk, "invited_by": invitation.invited_by_label},
    )
    return membership


@transaction.atomic
def decline(*, invitation_id: str, token: str, request=None) -> Invitation:
    """The link's holder says no: the invitation is closed and the org's log says so."""
    invitation = find(invitation_id, token)
    invitation = (
        Invitation.objects.select_for_update(of=("self",)).select_related("org").get(pk=invitation.pk)
    )
    _usable(invitation)
    invitation.declined_at = timezone.now()
    invitation.save(update_fields=["declined_at"])
    record_event(
        invitation.org,
        Action.MEMBER_INVITATION_DECLINED,
        actor=Actor.system(invitation.email),
        subject=_subject(invitation),
        request=request,
    )
    return invitation


@transaction.atomic
def withdraw(*, invitation: Invitation, actor: Actor, request=None) -> Invitation:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != "pending":
        raise ValidationError(f"This invitation is {invitation.status} already.")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    record_event(
        invitation.org,
        Action.MEMBER_INVITATION_WITHDRAWN,
        actor=actor,
        subject=_subject(invitation),
        request=request,
    )
    return invitation
