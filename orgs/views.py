"""Org pages: settings (quotas), members and API keys. Tenancy comes from the middleware:
every view here reads ``request.tenant`` and queries only through it."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from audit.services import Actor
from core.forms import add_service_errors
from core.pages import render_page, render_secret

from . import invitations, services
from .api_keys import api_key_create as create_key
from .api_keys import api_key_revoke as revoke_key
from .forms import ApiKeyCreateForm, InviteForm, MemberRoleForm, OrgCreateForm, OrgSettingsForm
from .models import ApiKey, Invitation, Membership, Organization, Role
from .selectors import members_of, memberships_of
from .tenancy import requires_role, sensitive


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send a signed-in person to the org they used last (else their first), or to create one."""
    first = (
        memberships_of(request.user).order_by(F("last_used_at").desc(nulls_last=True), "org__name").first()
    )
    if first is None:
        return redirect("org_create")
    return redirect("detection:overview", org_id=first.org_id)


@login_required
@require_http_methods(["GET", "POST"])
def org_create(request: HttpRequest) -> HttpResponse:
    form = OrgCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        org = services.org_create(name=form.cleaned_data["name"], owner=request.user, request=request)
        messages.success(request, f"{org.name} is ready. You are its owner.")
        return redirect("detection:overview", org_id=org.id)
    return render(request, "orgs/create.html", {"form": form})


@sensitive
@requires_role(Role.OWNER)  # quotas are the owner's, like billing
@require_http_methods(["GET", "POST"])
def org_settings(request: HttpRequest, org_id: str) -> HttpResponse:
    tenant = request.tenant
    # A fresh instance: form validation mutates it, and a refused change must not leak
    # into the request's org.
    instance = tenant.scope(Organization).get()
    form = OrgSettingsForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        data = {f: form.cleaned_data[f] for f in form.Meta.fields}
        try:
            services.org_update(org=tenant.org, data=data, actor=Actor.member(request.user), request=request)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Settings saved.")
            return redirect("orgs:settings", org_id=org_id)
    return render(request, "orgs/settings.html", {"form": form, "settings_tab": "general"})


@sensitive
@requires_role(Role.OWNER)
@require_http_methods(["GET", "POST"])
def members(request: HttpRequest, org_id: str) -> HttpResponse:
    """List members and pending invitations; owners invite by email."""
    tenant = request.tenant
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation, _ = invitations.invite(
                org=tenant.org,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                inviter=request.user,
                request=request,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            days = settings.INVITATION_DAYS
            messages.success(
                request, f"Invitation sent to {invitation.email}; the link works for {days} days."
            )
            return redirect("orgs:members", org_id=org_id)
    context = {
        "form": form,
        "members": members_of(tenant.org),
        "pending": tenant.scope(Invitation).pending().order_by("-created_at"),
        "roles": Role.choices,
        "settings_tab": "members",
    }
    return render(request, "orgs/members.html", context, status=422 if form.errors else 200)


@requires_role(Role.OWNER)
@require_POST
def invitation_withdraw(request: HttpRequest, org_id: str, invitation_id: str) -> HttpResponse:
    invitation = request.tenant.get(Invitation, pk=invitation_id)
    try:
        invitations.withdraw(invitation=invitation, actor=Actor.member(request.user), request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, f"The invitation of {invitation.email} is withdrawn; its link no longer works."
        )
    return redirect("orgs:members", org_id=org_id)


@sensitive
@requires_role(Role.OWNER)
@require_POST
def member_role(request: HttpRequest, org_id: str, member_id: str) -> HttpResponse:
    """Change a member's role; answers the table row for htmx, a redirect otherwise."""
    tenant = request.tenant
    membership = tenant.get(tenant.scope(Membership).select_related("user"), pk=member_id)
    form = MemberRoleForm(request.POST)
    error = None
    if not form.is_valid():
        error = "Choose owner, admin or auditor."
    else:
        try:
            membership = services.member_change_role(
                membership=membership,
                role=form.cleaned_data["role"],
                actor=Actor.member(request.user),
                request=request,
            )
        except ValidationError as e:
            error = " ".join(e.messages)
    if request.htmx:
        response = render(
            request,
            "orgs/members.html#member-row",
            {"m": membership, "roles": Role.choices, "row_error": error, "tenant": tenant},
        )
        if error:
            response.status_code = 422
        return response
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"{membership.user.email} is now {membership.get_role_display().lower()}.")
    return redirect("orgs:members", org_id=org_id)


@sensitive
@requires_role(Role.OWNER)
@require_POST
def member_remove(request: HttpRequest, org_id: str, member_id: str) -> HttpResponse:
    tenant = request.tenant
    membership = tenant.get(tenant.scope(Membership).select_related("user"), pk=member_id)
    try:
        services.member_remove(membership=membership, actor=Actor.member(request.user), request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{membership.user.email} was removed.")
    if (
        membership.user_id == request.user.id
        and not tenant.scope(Membership).filter(user=request.user).exists()
    ):
        return redirect("home")
    return redirect("orgs:members", org_id=org_id)


def api_keys(request: HttpRequest, org_id: str, form: ApiKeyCreateForm | None = None) -> HttpResponse:
    """List the org's API keys; owners and admins create them (revealed once)."""
    tenant = request.tenant
    context = {
        "form": form or ApiKeyCreateForm(),
        "keys": tenant.scope(ApiKey).order_by("revoked_at", "-created_at"),
        "settings_tab": "api-keys",
    }
    return render_page(request, "orgs/api_keys.html", context, status=422 if form else 200)


@sensitive
@require_POST
def api_key_create(request: HttpRequest, org_id: str) -> HttpResponse:
    tenant = request.tenant
    form = ApiKeyCreateForm(request.POST)
    if form.is_valid():
        try:
            key, value = create_key(
                org=tenant.org,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                actor=Actor.member(request.user),
                request=request,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            listing = reverse("orgs:api_keys", kwargs={"org_id": org_id})
            context = {"key": key, "value": value, "list_url": listing, "settings_tab": "api-keys"}
            return render_secret(request, "orgs/api_key_reveal.html", context, push_url=listing)
    return api_keys(request, org_id, form=form)


@require_POST
def api_key_revoke(request: HttpRequest, org_id: str, key_id: str) -> HttpResponse:
    key = request.tenant.get(ApiKey, pk=key_id)
    revoke_key(key=key, actor=Actor.member(request.user), request=request)
    messages.success(request, f"{key.name} ({key.display_prefix}) is revoked: calls with it now get 401.")
    return redirect("orgs:api_keys", org_id=org_id)
