"""Reads of organizations and memberships that views and templates share."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Membership, Organization


def memberships_of(user) -> QuerySet[Membership]:
    """The caller's memberships, for the org switcher and the home redirect."""
    return Membership.objects.filter(user=user).select_related("org").order_by("org__name", "org_id")


def members_of(org: Organization) -> QuerySet[Membership]:
    return Membership.objects.filter(org=org).select_related("user").order_by("user__email")
