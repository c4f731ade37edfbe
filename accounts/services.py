"""Account writes that are ours (django-allauth does the rest): the organization a
sign-up asked for, created once its email is verified."""

from __future__ import annotations

from django.db import transaction

from orgs.models import Membership, Organization
from orgs.services import org_create


@transaction.atomic
def create_pending_org(user, *, request=None) -> Organization | None:
    """Create the org sign-up asked for, owned by ``user``; None when there is none to
    create (no name, or the person already belongs to an org, e.g. invited)."""
    user = type(user).objects.select_for_update().get(pk=user.pk)
    name, user.pending_org_name = user.pending_org_name, ""
    user.save(update_fields=["pending_org_name"])
    if not name or Membership.objects.filter(user=user).exists():
        return None
    return org_create(name=name, owner=user, request=request)
