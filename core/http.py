"""The request an org page or an API router receives, typed: ``request.tenant`` is set by
``orgs.tenancy.TenancyMiddleware`` (pages) or ``orgs.api_auth.ApiKeyAuth`` (the API), and
``request.htmx`` by django-htmx. A Protocol, so this leaf package names no app."""

from __future__ import annotations

from typing import Any, Protocol

from django.db.models import Model, QuerySet
from django.http import HttpRequest


class TenantView(Protocol):
    """What views may ask of ``request.tenant`` (``orgs.tenancy.Tenant``)."""

    org: Any
    role: str
    can_write: bool
    is_owner: bool

    def scope(self, model_or_qs: type[Model] | QuerySet) -> QuerySet: ...

    def get(self, model_or_qs: type[Model] | QuerySet, **lookup: Any) -> Model: ...

    def allows(self, scope: str) -> bool: ...


class OrgRequest(HttpRequest):
    tenant: TenantView
    htmx: Any  # django_htmx.middleware.HtmxDetails: falsy when not an htmx request
