"""The REST API at /api/v1: OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs.

Every error is JSON ``{"detail": "..."}`` that says what is wrong; no input yields a 500.
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.errors import ValidationError as SchemaValidationError

from acls.api import acl_router, rule_sets_router, simulate_router
from acls.services import RuleErrors
from audit.api import audit_router
from core.api import ApiError, validation_detail
from core.errors import Conflict
from detection.api import alerts_router
from orgs.api_auth import ApiKeyAuth
from sessions.api import sessions_router
from users.api import tokens_router, users_router

api = NinjaAPI(
    title="CloudSignal Dashboard API",
    version="1",
    description=(
        "Manage MQTT users and mint temporary tokens for one organization: the organization "
        "of the API key in `Authorization: Bearer sk_...`."
    ),
    auth=ApiKeyAuth(),
    urls_namespace="api",
)
api.add_router("/users", users_router)
api.add_router("/users", acl_router)
api.add_router("/tokens", tokens_router)
api.add_router("/rule-sets", rule_sets_router)
api.add_router("/simulate", simulate_router)
api.add_router("/audit", audit_router)
api.add_router("/sessions", sessions_router)
api.add_router("/alerts", alerts_router)


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError):
    response = api.create_response(request, {"detail": exc.detail}, status=exc.status)
    for name, value in exc.headers.items():
        response[name] = value
    return response


@api.exception_handler(RuleErrors)
def _rule_errors(request: HttpRequest, exc: RuleErrors):
    body = {
        "detail": validation_detail(exc),
        "errors": [{"index": i, "reason": reason} for i, reason in sorted(exc.errors.items())],
    }
    return api.create_response(request, body, status=422)


@api.exception_handler(Conflict)
def _conflict(request: HttpRequest, exc: Conflict):
    return api.create_response(request, {"detail": validation_detail(exc)}, status=409)


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError):
    return api.create_response(request, {"detail": validation_detail(exc)}, status=422)


@api.exception_handler(SchemaValidationError)
def _schema_invalid(request: HttpRequest, exc: SchemaValidationError):
    parts = []
    for error in exc.errors:
        where = ".".join(str(p) for p in error.get("loc", ())[1:]) or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return api.create_response(request, {"detail": "; ".join(parts) or "Invalid request."}, status=422)


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig):
    return api.create_response(request, {"detail": "Request body too large."}, status=413)
