"""The lists' bulk actions: disable, enable or delete the checked MQTT users; revoke the
checked tokens. A selection that cannot be acted on in full changes nothing and says why
above the list it came from."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from audit.services import Actor
from core.http import OrgRequest
from core.pages import back_within_org, render_page
from core.text import counted
from orgs.tenancy import sensitive

from . import bulk
from .models import MqttUser, TempToken

USER_ACTIONS = ("disable", "enable", "delete")


@sensitive
@require_POST
def users_bulk(request: OrgRequest, org_id: str) -> HttpResponse:
    listing = back_within_org(request, org_id, reverse("users:list", kwargs={"org_id": org_id}))
    action = request.POST.get("action", "")
    try:
        if action not in USER_ACTIONS:
            raise ValidationError(f"Choose one of: {', '.join(USER_ACTIONS)}.")
        users = bulk.selected(
            request.tenant.scope(MqttUser), request.POST.getlist("name"), field="name", what="MQTT user"
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(listing)
    actor = Actor.member(request.user)
    if action == "delete":
        if request.POST.get("confirm", "").strip() != str(len(users)):
            context = {"users": users, "next": listing, "typed": request.POST.get("confirm") is not None}
            return render_page(request, "users/bulk_delete.html", context, status=200)
        count = bulk.users_delete(users=users, actor=actor, request=request)
        messages.success(request, f"Deleted {counted(count, 'MQTT user')}; the audit keeps them.")
        return redirect(listing)
    enabled = action == "enable"
    count = bulk.users_set_enabled(users=users, enabled=enabled, actor=actor, request=request)
    done = "enabled" if enabled else "disabled; their live sessions are being disconnected"
    unchanged = len(users) - count
    messages.success(
        request,
        f"{counted(count, 'MQTT user')} {done}."
        + (f" {unchanged} already {'were' if unchanged != 1 else 'was'}." if unchanged else ""),
    )
    return redirect(listing)


@require_POST
def tokens_bulk_revoke(request: OrgRequest, org_id: str) -> HttpResponse:
    listing = back_within_org(request, org_id, reverse("tokens:list", kwargs={"org_id": org_id}))
    try:
        chosen = bulk.selected(
            request.tenant.scope(TempToken), request.POST.getlist("token"), field="id", what="token"
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(listing)
    count = bulk.tokens_revoke_selected(tokens=chosen, actor=Actor.member(request.user), request=request)
    skipped = len(chosen) - count
    messages.success(
        request,
        f"Revoked {counted(count, 'token')}; their sessions are being disconnected."
        + (f" {skipped} had already expired or been revoked." if skipped else ""),
    )
    return redirect(listing)
