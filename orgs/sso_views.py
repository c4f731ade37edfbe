"""The org's single sign-on settings (owners; each change needs a recent sign-in)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from core.forms import add_service_errors

from . import sso
from .models import Role, SsoConfig, provider_id_of
from .sso_forms import SsoForm
from .tenancy import requires_role, sensitive


@sensitive
@requires_role(Role.OWNER)
@require_http_methods(["GET", "POST"])
def sso_settings(request: HttpRequest, org_id: str) -> HttpResponse:
    tenant = request.tenant
    config = SsoConfig.objects.filter(org=tenant.org).prefetch_related("domains").first()
    form = SsoForm(request.POST or None, initial=SsoForm.initial_of(config))
    if request.method == "POST" and form.is_valid():
        try:
            sso.configure(org=tenant.org, values=form.values(), actor_user=request.user, request=request)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, "Single sign-on saved. Try it in a private window before you forbid passwords."
            )
            return redirect("orgs:sso", org_id=org_id)
    provider_id = provider_id_of(tenant.org.id)
    callback = request.build_absolute_uri(
        reverse("openid_connect_callback", kwargs={"provider_id": provider_id})
    )
    context = {
        "form": form,
        "config": config,
        "callback_url": callback,
        "settings_tab": "sso",
        "bound": config.bound_accounts() if config else 0,
    }
    return render(request, "orgs/sso.html", context, status=400 if form.errors else 200)


@sensitive
@requires_role(Role.OWNER)
@require_POST
def sso_remove(request: HttpRequest, org_id: str) -> HttpResponse:
    sso.remove(org=request.tenant.org, actor_user=request.user, request=request)
    messages.success(request, "Single sign-on removed: members sign in with their passwords again.")
    return redirect("orgs:sso", org_id=org_id)
