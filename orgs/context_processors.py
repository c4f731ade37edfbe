"""Template context for the layout: the current org and the caller's other orgs."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .selectors import memberships_of


def tenancy(request: HttpRequest) -> dict:
    tenant = getattr(request, "tenant", None)
    user = getattr(request, "user", None)
    return {
        "tenant": tenant,
        "org": tenant.org if tenant else None,
        "my_memberships": SimpleLazyObject(
            lambda: list(memberships_of(user)) if user and user.is_authenticated else []
        ),
    }
