"""REST endpoints for MQTT users (scope ``manage``) and temporary tokens (``tokens:mint``)."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from django.conf import settings
from ninja import Field, Query, Router, Schema, Status

from core.api import (
    ERRORS,
    ApiError,
    ErrorOut,
    Scope,
    Text,
    check_page_request,
    keyset_list,
    org_of,
    require_scope,
    scoped,
    scoped_get,
)
from core.http import OrgRequest
from core.ratelimit import hit
from orgs.api_auth import actor_of, api_key_of

from . import services, tokens
from .models import MqttUser, TempToken
from .selectors import filter_tokens, filter_users, page_tokens, page_users

users_router = Router(tags=["MQTT users"])
tokens_router = Router(tags=["Temporary tokens"])


class UserIn(Schema):
    name: Text = Field(..., max_length=200, description="1–64 of a-z 0-9 . _ - ; unique in the org")
    description: Text = Field("", max_length=500)


class UserPatch(Schema):
    description: Text | None = Field(None, max_length=500)
    enabled: bool | None = None


class RotateIn(Schema):
    grace_seconds: int = Field(
        0, description="0, 300, 3600 or 86400: how long the previous secret still works"
    )


class UserOut(Schema):
    name: str
    username: str
    description: str
    enabled: bool
    created_at: datetime
    created_by: str
    last_seen_at: datetime | None
    secret_created_at: datetime


class UserCreatedOut(UserOut):
    secret: str = Field(..., description="The permanent secret: shown this once, never again")


class SecretOut(Schema):
    username: str
    secret: str
    previous_secret_valid_until: datetime | None


class TokenIn(Schema):
    user: Text = Field(..., max_length=200, description="Name of an enabled MQTT user of the key's org")
    ttl_seconds: int | None = Field(None, description="Default: the org's token TTL; at most its maximum")
    label: Text = Field("", max_length=100)


class TokenOut(Schema):
    id: str
    username: str
    label: str
    status: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    minted_by: str


class UserPageOut(Schema):
    users: list[UserOut]
    next: str | None = Field(None, description="Pass as ?after= for the next page")


class TokenPageOut(Schema):
    tokens: list[TokenOut]
    next: str | None = Field(None, description="Pass as ?after= for the next (older) page")


class TokenMintedOut(Schema):
    id: str
    username: str
    token: str = Field(..., description="Use as the MQTT password with the username; shown once")
    expires_at: datetime
    mqtt_tls_url: str
    mqtt_wss_url: str


def user_by_name(request: OrgRequest, name: str) -> MqttUser:
    return scoped_get(
        request,
        scoped(request, MqttUser).select_related("org"),
        f"No MQTT user named {name!r} in this organization.",
        name=name,
    )


def _user_out(user: MqttUser) -> dict:
    return {
        "name": user.name,
        "username": user.username,
        "description": user.description,
        "enabled": user.enabled,
        "created_at": user.created_at,
        "created_by": user.created_by,
        "last_seen_at": user.last_seen_at,
        "secret_created_at": user.secret_created_at,
    }


def _token_out(token: TempToken) -> dict:
    return {
        "id": token.id,
        "username": token.user.username,
        "label": token.label,
        "status": token.status,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
        "minted_by": token.minted_by_label,
    }


@users_router.post("", response={201: UserCreatedOut, **ERRORS}, summary="Create an MQTT user")
def create_user(request: OrgRequest, body: UserIn):
    require_scope(request, Scope.MANAGE)
    user, secret = services.user_create(
        org=org_of(request),
        name=body.name,
        description=body.description,
        actor=actor_of(request),
        request=request,
    )
    return Status(201, {**_user_out(user), "secret": secret})


@users_router.get("", response={200: UserPageOut, **ERRORS}, summary="List MQTT users, by name")
def list_users(
    request: OrgRequest,
    q: str = Query("", description="Part of the name or description, as the users page's search"),
    status: str = Query("", description="enabled, disabled or never_seen"),
    sort: str = Query("name", description="name, last_seen, created or secret_age; -name for the reverse"),
    after: str = Query("", description="The next of the previous page"),
    limit: int = 100,
):
    check_page_request(request, limit)
    params = {"q": q, "status": status}
    page = partial(page_users, sort=sort)
    rows, next_name = keyset_list(scoped(request, MqttUser), filter_users, page, params, after, limit)
    return {"users": [_user_out(user) for user in rows], "next": next_name}


@users_router.get("/{name}", response={200: UserOut, **ERRORS}, summary="Get an MQTT user")
def get_user(request: OrgRequest, name: str):
    require_scope(request, Scope.MANAGE)
    return _user_out(user_by_name(request, name))


@users_router.patch("/{name}", response={200: UserOut, **ERRORS}, summary="Change description or enabled")
def patch_user(request: OrgRequest, name: str, body: UserPatch):
    require_scope(request, Scope.MANAGE)
    user = services.user_update(
        user=user_by_name(request, name),
        description=body.description,
        enabled=body.enabled,
        actor=actor_of(request),
        request=request,
    )
    return _user_out(user)


@users_router.delete("/{name}", response={204: None, **ERRORS}, summary="Delete an MQTT user and its tokens")
def delete_user(request: OrgRequest, name: str):
    require_scope(request, Scope.MANAGE)
    services.user_delete(user=user_by_name(request, name), actor=actor_of(request), request=request)
    return Status(204, None)


@users_router.post("/{name}/rotate", response={200: SecretOut, **ERRORS}, summary="Rotate the secret")
def rotate_secret(request: OrgRequest, name: str, body: RotateIn):
    require_scope(request, Scope.MANAGE)
    user = user_by_name(request, name)
    secret = services.user_rotate_secret(
        user=user, grace_seconds=body.grace_seconds, actor=actor_of(request), request=request
    )
    user.refresh_from_db()
    return {
        "username": user.username,
        "secret": secret,
        "previous_secret_valid_until": user.previous_secret_valid_until,
    }


@tokens_router.post(
    "", response={201: TokenMintedOut, 429: ErrorOut, **ERRORS}, summary="Mint a temporary token"
)
def mint_token(request: OrgRequest, body: TokenIn):
    require_scope(request, Scope.TOKENS_MINT)
    key = api_key_of(request)
    verdict = hit("token-mint", key.id, settings.TOKEN_MINT_RATE_LIMIT)
    if not verdict.allowed:
        raise ApiError(
            429,
            f"Too many tokens minted with this key (limit {settings.TOKEN_MINT_RATE_LIMIT}); "
            f"retry in {verdict.retry_after} s.",
            headers={"Retry-After": str(verdict.retry_after)},
        )
    token, value = tokens.token_mint(
        org=org_of(request),
        user=user_by_name(request, body.user),
        ttl_seconds=body.ttl_seconds,
        label=body.label,
        actor=actor_of(request),
        request=request,
    )
    return Status(
        201,
        {
            "id": token.id,
            "username": token.user.username,
            "token": value,
            "expires_at": token.expires_at,
            "mqtt_tls_url": settings.MQTT_PUBLIC_TLS_URL,
            "mqtt_wss_url": settings.MQTT_PUBLIC_WSS_URL,
        },
    )


@tokens_router.get("", response={200: TokenPageOut, **ERRORS}, summary="List tokens, newest first")
def list_tokens(
    request: OrgRequest,
    user: str = Query("", description="An MQTT user's name"),
    status: str = Query("", description="active, expired or revoked"),
    after: str = Query("", description="The next of the previous page"),
    limit: int = 100,
):
    check_page_request(request, limit, Scope.TOKENS_MINT)
    qs = scoped(request, TempToken).select_related("user", "user__org")
    params = {"user": user, "status": status}
    rows, cursor = keyset_list(qs, filter_tokens, page_tokens, params, after, limit)
    return {"tokens": [_token_out(token) for token in rows], "next": cursor}


@tokens_router.delete("/{token_id}", response={204: None, **ERRORS}, summary="Revoke a token")
def revoke_token(request: OrgRequest, token_id: str):
    require_scope(request, Scope.TOKENS_MINT)
    token = scoped_get(
        request,
        scoped(request, TempToken).select_related("user", "org"),
        f"No token {token_id!r} in this organization.",
        pk=token_id.removeprefix("cst_"),
    )
    tokens.token_revoke(token=token, actor=actor_of(request), request=request)
    return Status(204, None)
