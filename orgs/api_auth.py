"""API-key authentication: ``Authorization: Bearer sk_...`` yields the same ``Tenant`` the
pages use (``request.tenant``), so routers read through ``tenant.scope()`` like views.
What routers share besides (errors, scopes, paging) is ``core.api``.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from audit.services import Actor
from core.api import ApiError

from .api_keys import api_key_actor, api_key_authenticate
from .models import ApiKey
from .tenancy import Tenant


class ApiKeyAuth(HttpBearer):
    """Missing, malformed, unknown or revoked → 401, each with its own message (HttpBearer
    alone answers a bare "Unauthorized")."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        return api_key_authenticate(token)

    def __call__(self, request: HttpRequest) -> ApiKey:
        header = request.headers.get("Authorization", "")
        if not header:
            raise ApiError(401, "Missing API key: send the header `Authorization: Bearer sk_...`.")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise ApiError(401, "Malformed Authorization header: expected `Bearer sk_...`.")
        key = api_key_authenticate(value.strip())
        if key is None:
            raise ApiError(401, "Invalid or revoked API key.")
        request.tenant = Tenant.of_api_key(key)  # type: ignore[attr-defined]
        return key


def api_key_of(request: HttpRequest) -> ApiKey:
    return request.auth  # type: ignore[attr-defined]


def actor_of(request: HttpRequest) -> Actor:
    return api_key_actor(api_key_of(request))
