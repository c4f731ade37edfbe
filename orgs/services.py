"""Writes of organizations and memberships. Each validates, saves and audits atomically."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.models import Action, SubjectType
from audit.services import Actor, Subject, changed_fields, record_event

from .models import QUOTA_BOUNDS, Membership, Organization, Role


def _org_subject(org: Organization) -> Subject:
    return Subject(SubjectType.ORGANIZATION, org.id, org.name)


def _member_subject(m: Membership) -> Subject:
    return Subject(SubjectType.MEMBERSHIP, m.id, m.user.email)


@transaction.atomic
def org_create(*, name: str, owner, actor: Actor | None = None, request=None) -> Organization:
    """Create an org with ``owner`` as its first owner."""
    org = Organization(name=name)
    org.full_clean()
    org.save()
    membership = Membership.objects.create(org=org, user=owner, role=Role.OWNER)
    actor = actor or Actor.member(owner)
    record_event(
        org,
        Action.ORG_CREATED,
        actor=actor,
        subject=_org_subject(org),
        request=request,
        after=org.quota_snapshot(),
    )
    record_event(
        org,
        Action.MEMBER_ADDED,
        actor=actor,
        subject=_member_subject(membership),
        request=request,
        after={"email": owner.email, "role": Role.OWNER},
    )
    return org


@transaction.atomic
def org_update(*, org: Organization, data: dict, actor: Actor, request=None) -> Organization:
    """Change the org's name, quotas and sign-in rule; ``data`` holds any of those fields."""
    allowed = {"name", *QUOTA_BOUNDS, "require_mfa"}
    unknown = set(data) - allowed
    if unknown:
        raise ValidationError(f"Unknown settings: {', '.join(sorted(unknown))}.")
    locked = Organization.objects.select_for_update().get(pk=org.pk)
    before = locked.quota_snapshot()
    for field, value in data.items():
        setattr(locked, field, value)
    locked.full_clean()
    after = locked.quota_snapshot()
    old, new = changed_fields(before, after)
    if not new:
        return locked
    locked.save(update_fields=list(new))
    record_event(
        locked,
        Action.ORG_UPDATED,
        actor=actor,
        subject=_org_subject(locked),
        request=request,
        before=old,
        after=new,
    )
    return locked


def _lock_memberships(org: Organization) -> None:
    # Serialise membership changes of one org, so two owners cannot demote each other
    # at once and leave it ownerless.
    Organization.objects.select_for_update().filter(pk=org.pk).first()


def _is_last_owner(m: Membership) -> bool:
    return (
        m.role == Role.OWNER
        and not Membership.objects.filter(org=m.org, role=Role.OWNER).exclude(pk=m.pk).exists()
    )


@transaction.atomic
def member_change_role(*, membership: Membership, role: str, actor: Actor, request=None) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}: choose owner, admin or auditor."})
    _lock_memberships(membership.org)
    m = Membership.objects.select_related("user", "org").get(pk=membership.pk)
    if m.role == role:
        return m
    if _is_last_owner(m):
        raise ValidationError(
            {"role": f"{m.user.email} is the last owner: make someone else an owner first."}
        )
    before = m.role
    m.role = role
    m.save(update_fields=["role"])
    record_event(
        m.org,
        Action.MEMBER_ROLE_CHANGED,
        actor=actor,
        subject=_member_subject(m),
        request=request,
        before={"role": before},
        after={"role": role},
    )
    return m


@transaction.atomic
def member_remove(*, membership: Membership, actor: Actor, request=None) -> None:
    _lock_memberships(membership.org)
    m = Membership.objects.select_related("user", "org").get(pk=membership.pk)
    if _is_last_owner(m):
        raise ValidationError(
            f"{m.user.email} is the last owner and cannot be removed: make someone else an owner first."
        )
    record_event(
        m.org,
        Action.MEMBER_REMOVED,
        actor=actor,
        subject=_member_subject(m),
        request=request,
        before={"email": m.user.email, "role": m.role},
    )
    m.delete()
