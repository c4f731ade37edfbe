"""Pages of MQTT users and temporary tokens. Tenancy comes from the middleware; every
query goes through ``request.tenant``; every change through a service."""

from __future__ import annotations

from functools import partial

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from audit.models import AuditEvent, SubjectType
from audit.services import Actor
from core.filters import BadFilter
from core.forms import add_service_errors
from core.http import OrgRequest
from core.pages import back_within_org, filtered_page, render_page, render_secret
from orgs.tenancy import sensitive
from sessions.models import MqttSession
from sessions.selectors import page_before

from . import services, tokens
from .forms import DescriptionForm, RotateForm, TokenFilterForm, TokenMintForm, UserCreateForm, UserFilterForm
from .models import MqttUser, TempToken
from .selectors import USER_ORDERS, filter_tokens, filter_users, page_tokens, page_users
from .snippets import connection_snippets

USER_TABS = ("overview", "sessions", "audit")  # the ACL tab is the acls app's page
LIVE_SHOWN = 10  # live connections listed on a user's overview; the rest are a link away


def user_list(request: OrgRequest, org_id: str) -> HttpResponse:
    tenant = request.tenant
    page = partial(page_users, sort=request.GET.get("sort"))
    listed = filtered_page(request, tenant.scope(MqttUser), filter_users, page, "after")
    context = {
        **listed,
        "orders": USER_ORDERS,
        "default_sort": "name",
        "filter_form": UserFilterForm(request.GET),
        "total": tenant.scope(MqttUser).count(),
    }
    status = 400 if listed["filter_error"] else 200
    if request.htmx and request.htmx.target == "user-results":
        return render(request, "users/list.html#results", context, status=status)
    return render_page(request, "users/list.html", context, status=status)


@require_http_methods(["GET", "POST"])
def user_create(request: OrgRequest, org_id: str) -> HttpResponse:
    tenant = request.tenant
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user, secret = services.user_create(
                org=tenant.org,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                actor=Actor.member(request.user),
                request=request,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _reveal(request, user, secret, created=True)
    status = 422 if form.errors else 200
    return render_page(request, "users/create.html", {"form": form}, status=status)


def _reveal(request: OrgRequest, user: MqttUser, secret: str, *, created: bool) -> HttpResponse:
    detail = reverse("users:detail", kwargs={"org_id": user.org_id, "name": user.name})
    context = {
        "mqtt_user": user,
        "secret": secret,
        "created": created,
        "snippets": connection_snippets(user, secret),
        "detail_url": detail,
    }
    return render_secret(request, "users/reveal.html", context, push_url=detail)


def user_detail(request: OrgRequest, org_id: str, name: str) -> HttpResponse:
    tenant = request.tenant
    user = tenant.get(MqttUser, name=name)
    tab = request.GET.get("tab", "overview")
    if tab == "acl":  # links from before the ACL tab moved to the acls app
        return redirect("acls:user", org_id=org_id, name=user.name)
    if tab not in USER_TABS:
        tab = "overview"
    status = 200
    context = {
        "mqtt_user": user,
        "tab": tab,
        "rotate_form": RotateForm(),
        "description_form": DescriptionForm(initial={"description": user.description}),
        "active_tokens": tenant.scope(TempToken).filter(user=user).with_status("active").count(),
    }
    if tab == "overview":
        live = tenant.scope(MqttSession).filter(user=user, disconnected_at__isnull=True)
        context["live_count"] = live.count()
        context["live_sessions"] = list(live.order_by("-connected_at")[:LIVE_SHOWN])
    if tab == "sessions":
        try:
            rows, next_cursor = page_before(
                tenant.scope(MqttSession).filter(user=user), request.GET.get("before")
            )
        except BadFilter as bad:
            rows, next_cursor, status, context["filter_error"] = [], None, 400, str(bad)
        context.update(rows=rows, next_cursor=next_cursor, query="tab=sessions")
    if tab == "audit":
        context["events"] = (
            tenant.scope(AuditEvent)
            .filter(
                Q(subject_type=SubjectType.MQTT_USER, subject_id=user.id)
                | Q(subject_type=SubjectType.TOKEN, subject_label__endswith=f" of {user.username}")
            )
            .order_by("-at", "-id")[:100]
        )
    return render_page(request, "users/detail.html", context, status=status)


@sensitive
@require_POST
def user_rotate(request: OrgRequest, org_id: str, name: str) -> HttpResponse:
    user = request.tenant.get(MqttUser, name=name)
    form = RotateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a grace period: none, 5 minutes, 1 hour or 24 hours.")
        return redirect("users:detail", org_id=org_id, name=name)
    secret = services.user_rotate_secret(
        user=user,
        grace_seconds=form.cleaned_data["grace_seconds"],
        actor=Actor.member(request.user),
        request=request,
    )
    user.refresh_from_db()
    return _reveal(request, user, secret, created=False)


@require_POST
def user_update(request: OrgRequest, org_id: str, name: str) -> HttpResponse:
    """Enable, disable (``enabled`` = "true"/"false") or change the description."""
    user = request.tenant.get(MqttUser, name=name)
    changes: dict = {}
    if "enabled" in request.POST:
        if request.POST["enabled"] not in ("true", "false"):
            messages.error(request, "enabled must be true or false.")
            return redirect("users:detail", org_id=org_id, name=name)
        changes["enabled"] = request.POST["enabled"] == "true"
    if "description" in request.POST:
        form = DescriptionForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Keep the description under 500 characters.")
            return redirect("users:detail", org_id=org_id, name=name)
        changes["description"] = form.cleaned_data["description"]
    user = services.user_update(user=user, actor=Actor.member(request.user), request=request, **changes)
    if "enabled" in changes:
        state = "enabled" if user.enabled else "disabled; its live sessions are being disconnected"
        messages.success(request, f"{user.username} is {state}.")
    else:
        messages.success(request, "Description saved.")
    return redirect("users:detail", org_id=org_id, name=name)


@sensitive
@require_http_methods(["GET", "POST"])
def user_delete(request: OrgRequest, org_id: str, name: str) -> HttpResponse:
    user = request.tenant.get(MqttUser, name=name)
    if request.method == "POST":
        if request.POST.get("confirm") != user.name:
            messages.error(request, f"Type {user.name} to confirm the deletion.")
            return redirect("users:delete", org_id=org_id, name=name)
        services.user_delete(user=user, actor=Actor.member(request.user), request=request)
        messages.success(request, f"{user.username} was deleted; its audit history is kept.")
        return redirect("users:list", org_id=org_id)
    return render_page(request, "users/delete.html", {"mqtt_user": user})


# --- Temporary tokens -----------------------------------------------------------------


def _mint_form(request: OrgRequest, data=None) -> TokenMintForm:
    tenant = request.tenant
    return TokenMintForm(
        data,
        users=tenant.scope(MqttUser).filter(enabled=True).order_by("name"),
        default_ttl=tenant.org.token_ttl_default,
        max_ttl=tenant.org.token_ttl_max,
        initial={"user": request.GET.get("user", "")},
    )


def token_list(request: OrgRequest, org_id: str, mint_form: TokenMintForm | None = None) -> HttpResponse:
    tenant = request.tenant
    tokens_of_org = tenant.scope(TempToken).select_related("user")
    listed = filtered_page(request, tokens_of_org, filter_tokens, page_tokens, "after")
    context = {
        **listed,
        "filter_form": TokenFilterForm(request.GET),
        "mint_form": mint_form or _mint_form(request),
        "any_tokens": tenant.scope(TempToken).exists(),
    }
    status = 422 if mint_form else 400 if listed["filter_error"] else 200
    return render_page(request, "users/tokens.html", context, status=status)


@sensitive
@require_POST
def token_mint(request: OrgRequest, org_id: str) -> HttpResponse:
    tenant = request.tenant
    form = _mint_form(request, request.POST)
    if form.is_valid():
        user = tenant.scope(MqttUser).filter(name=form.cleaned_data["user"]).first()
        try:
            token, value = tokens.token_mint(
                org=tenant.org,
                user=user,
                ttl_seconds=form.cleaned_data["lifetime"],
                label=form.cleaned_data["label"],
                actor=Actor.member(request.user),
                request=request,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            listing = reverse("tokens:list", kwargs={"org_id": org_id})
            response = render_secret(
                request,
                "users/token_reveal.html",
                {"token": token, "value": value, "list_url": listing},
                push_url=listing,
            )
            response["HX-Trigger"] = "tokens-changed"  # the list beside the mint card shows it
            return response
    if request.htmx:  # the mint card only, with the errors
        return render_page(request, "users/token_mint.html", {"mint_form": form}, status=422)
    return token_list(request, org_id, mint_form=form)


@require_POST
def token_revoke(request: OrgRequest, org_id: str, token_id: str) -> HttpResponse:
    token = request.tenant.get(request.tenant.scope(TempToken).select_related("user"), pk=token_id)
    try:
        tokens.token_revoke(token=token, actor=Actor.member(request.user), request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{token.display_prefix} is revoked; its sessions are being disconnected.")
    return redirect(back_within_org(request, org_id, reverse("tokens:list", kwargs={"org_id": org_id})))
