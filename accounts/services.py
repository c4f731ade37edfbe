"""Account writes: sign-up creates the account and its first org in one transaction."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from orgs.models import Organization
from orgs.services import org_create


@transaction.atomic
def account_signup(*, email: str, password: str, org_name: str, request=None):
    """Create a dashboard account and its first org, owned by it; nothing on failure."""
    user = get_user_model().objects.create_user(email=email, password=password)
    org: Organization = org_create(name=org_name, owner=user, request=request)
    return user, org
