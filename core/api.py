"""What every router of the REST API shares: scopes, the error answer, string fields,
paging and the one tenancy rule (the key's org, read from ``request.tenant``).

The API-key authentication that sets ``request.tenant`` lives with the keys
(``orgs.api_auth``); routers of every app read through this module only, so an app below
``orgs`` (the audit log) serves its API without importing it.
"""

from __future__ import annotations

from typing import Annotated

from django.core.exceptions import ValidationError
from django.db import models
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination
from pydantic import AfterValidator

from .filters import BadFilter
from .http import OrgRequest
from .text import control_character


class Scope(models.TextChoices):
    TOKENS_MINT = "tokens:mint", "tokens:mint — mint, list and revoke temporary tokens"
    MANAGE = "manage", "manage — everything the API offers, MQTT users included"


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


def require_scope(request: OrgRequest, scope: str) -> None:
    if not request.tenant.allows(scope):
        raise ApiError(403, f"This API key lacks the {str(scope)!r} scope.")


def check_page_request(request: OrgRequest, limit: int, scope: Scope = Scope.MANAGE) -> None:
    """What every keyset-paged list asks first: its scope and a page size it serves."""
    require_scope(request, scope)
    if not 1 <= limit <= 1000:
        raise ApiError(422, "limit must be between 1 and 1000.")


def org_of(request: OrgRequest):
    """The org of the API key: where a router creates what the request asks for."""
    return request.tenant.org


def scoped(request: OrgRequest, model_or_qs):
    """The key's org's rows: the API's only way to read org-owned rows, as pages use
    ``request.tenant.scope()`` (it is the same Tenant)."""
    return request.tenant.scope(model_or_qs)


def keyset_list(rows, filter_rows, page, params, after: str, limit: int):
    """One page of a list as its page reads it: the key's org's ``rows`` (``scoped()``),
    the page's selector (``filter_rows``) and keyset ``page``; a value they refuse is a 422
    with the same words as on the page."""
    try:
        return page(filter_rows(rows, params), after or None, limit)
    except BadFilter as error:
        raise ApiError(422, str(error)) from None


def scoped_get(request: OrgRequest, model_or_qs, missing: str, **lookup):
    """One object of the key's org, or 404 with ``missing``: "not yours" and "does not
    exist" are the same answer."""
    found = scoped(request, model_or_qs).filter(**lookup).first()
    if found is None:
        raise ApiError(404, missing)
    return found


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
