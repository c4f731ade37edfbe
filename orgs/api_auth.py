"""What every router of the REST API shares: API-key authentication, scopes, errors.

The key's org is the only org a call can see: routers look objects up with
``org_of(request)`` and nothing else.
"""

from __future__ import annotations

from typing import Annotated

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination
from ninja.security import HttpBearer
from pydantic import AfterValidator

from audit.services import Actor
from core.text import control_character
from orgs.api_keys import api_key_actor, api_key_authenticate
from orgs.models import ApiKey, Organization


class ApiError(Exception):
    """An answer other than success: ``status`` and a ``detail`` that says what is wrong."""

    def __init__(self, status: int, detail: str, headers: dict | None = None):
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers or {}


def _no_control(value: str) -> str:
    character = control_character(value, multiline=True)
    if character:
        label = "a NUL character" if character == "U+0000" else "a control character"
        raise ValueError(f"must not contain {label} ({character})")
    return value


# A string field of a request: no control character (core.text), refused
# here with a 422 instead of failing in the database or reaching the audit log.
Text = Annotated[str, AfterValidator(_no_control)]


class ErrorOut(Schema):
    detail: str


# Documented error answers of every authenticated operation.
ERRORS = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    413: ErrorOut,
    422: ErrorOut,
}


class ApiKeyAuth(HttpBearer):
    """``Authorization: Bearer sk_...``; missing, malformed, unknown or revoked → 401,
    each with its own message (HttpBearer alone answers a bare "Unauthorized")."""

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
        return key


def api_key_of(request: HttpRequest) -> ApiKey:
    return request.auth  # type: ignore[attr-defined]


def org_of(request: HttpRequest) -> Organization:
    return api_key_of(request).org


def actor_of(request: HttpRequest) -> Actor:
    return api_key_actor(api_key_of(request))


def org_get(request: HttpRequest, queryset, missing: str, **lookup):
    """One object of the key's org, or 404 with ``missing`` — the API's single tenancy
    check: "not yours" and "does not exist" are the same answer."""
    found = queryset.filter(org=org_of(request), **lookup).first()
    if found is None:
        raise ApiError(404, missing)
    return found


def require_scope(request: HttpRequest, scope: str) -> None:
    if not api_key_of(request).allows(scope):
        raise ApiError(403, f"This API key lacks the {str(scope)!r} scope.")


def validation_detail(error: ValidationError) -> str:
    """One readable sentence from a service's ValidationError."""
    if hasattr(error, "error_dict"):
        return " ".join(
            f"{field}: {message}" if field != "__all__" else message
            for field, messages in error.message_dict.items()
            for message in messages
        )
    return " ".join(error.messages)


class Mapped:
    """A queryset whose items are turned into API objects only once paged: the paginator
    counts and slices it in the database, and ``to_out`` runs on that page's rows alone."""

    def __init__(self, queryset, to_out) -> None:
        self.queryset = queryset
        self.to_out = to_out

    def all(self):
        return self

    def count(self) -> int:
        return self.queryset.count()

    def __getitem__(self, page: slice):
        return [self.to_out(row) for row in self.queryset[page]]


class Paging(LimitOffsetPagination):
    """Limit and offset of the REST API's offset-paged lists: both bounded, so a huge value
    is a 422 with the rule, never a query the database cannot run (a 500)."""

    class Input(Schema):
        limit: int = Field(100, ge=1, le=1000, description="Items per page, 1 to 1,000")
        offset: int = Field(0, ge=0, le=1_000_000, description="Items to skip, at most 1,000,000")
