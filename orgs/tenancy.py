"""Tenancy, enforced in one place.

Every org page lives under ``/o/<org_id>/``. Before any such view runs,
``TenancyMiddleware`` resolves the org from the URL and the caller's membership:

- not signed in: sent to the login page (the same answer for every org id, so it leaks
  nothing);
- signed in but not a member, unknown or malformed org id: 404, never 403;
- a member whose role may not change things (an auditor), on any unsafe method: 403.

Views then read ``request.tenant`` and fetch org-owned objects only through
``tenant.scope(...)`` / ``tenant.get(...)``, so an object of another org is a 404 too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import urlencode, urlsplit

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.decorators import reauthentication_required
from allauth.core.exceptions import ReauthenticationRequired
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.html import escape

from . import sso
from .models import ORG_ID_PATTERN, WRITE_ROLES, ApiKey, Membership, Organization, Role

ORG_URL_KWARG = "org_id"
SESSION_ENDED = (
    "<p data-error>Your session has ended. Sign in again in another tab, then retry here: "
    "what you entered is still on this page.</p>"
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class OrgIdConverter:
    """Path converter: only well-formed org ids reach a view; anything else is a 404."""

    regex = ORG_ID_PATTERN

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


@dataclass(frozen=True)
class Tenant:
    """The org of this request and who is asking: a member (pages) or an API key (the REST
    API); either way objects are read through ``scope()``."""

    org: Organization
    membership: Membership | None = None
    api_key: ApiKey | None = None

    @classmethod
    def of_api_key(cls, key: ApiKey) -> Tenant:
        return cls(org=key.org, api_key=key)

    def allows(self, scope: str) -> bool:
        """An API key's scopes; a member's rights are roles (``requires_role``)."""
        return self.api_key is not None and self.api_key.allows(scope)

    @property
    def role(self) -> str:
        return self.membership.role if self.membership else ""

    @property
    def can_write(self) -> bool:
        return self.role in WRITE_ROLES

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER

    def scope(self, model_or_qs: type[Model] | QuerySet) -> QuerySet:
        """The queryset restricted to this org: the only way views read org-owned rows."""
        qs = model_or_qs._default_manager.all() if isinstance(model_or_qs, type) else model_or_qs
        if qs.model is Organization:
            return qs.filter(pk=self.org.pk)
        return qs.filter(org=self.org)

    def get(self, model_or_qs: type[Model] | QuerySet, **lookup: Any) -> Model:
        """One object of this org, or 404 — the same answer for "missing" and "not yours"."""
        return get_object_or_404(self.scope(model_or_qs), **lookup)


# Sensitive actions ask for the password or a second factor again when the last one is
# older than ACCOUNT_REAUTHENTICATION_TIMEOUT ("sudo mode"). GET stays open: only the
# change is guarded. The views:
# rotating a secret, minting from the page, creating an API key, members and roles, quotas,
# detection and webhook settings, deleting users and rule sets (tests/test_sudo.py).
def sensitive(view: Callable) -> Callable:
    """Mark an org view whose changes need a recent authentication. Nothing is replayed
    after it: the person returns to the page they came from and repeats the action, which
    then runs through tenancy and roles like any other request."""
    guard = reauthentication_required(lambda request: None)

    @wraps(view)
    def checked(request: HttpRequest, *args, **kwargs):
        if request.method not in ("GET", "HEAD", "OPTIONS") and not sso.recently_signed_in_through_idp(
            request
        ):
            try:
                guard(request)
            except ReauthenticationRequired:
                return _reauthenticate_first(request, kwargs.get(ORG_URL_KWARG, ""))
        return view(request, *args, **kwargs)

    checked.sensitive = True  # type: ignore[attr-defined]  (tests/test_sudo.py lists them)
    return checked


REAUTHENTICATE = "Confirm it is you first (this action needs a recent sign-in), then repeat it."


def _reauthenticate_first(request: HttpRequest, org_id: str) -> HttpResponse:
    """To the password (or factor) page; a session that signed in through an IdP goes back
    through it (with prompt=login), and so does an account that has no password."""
    methods = get_account_adapter(request).get_reauthentication_methods(request.user)
    through_idp = sso.last_idp_sign_in(request) is not None
    if not methods and not through_idp:
        raise PermissionDenied("This account has no way to confirm it is you.")
    back = request.headers.get("HX-Current-URL") or request.headers.get("Referer") or ""
    back = urlsplit(back)._replace(scheme="", netloc="").geturl()
    if not (back.startswith(f"/o/{org_id}/") and "//" not in back):
        back = f"/o/{org_id}/"
    messages.info(request, REAUTHENTICATE)
    url = "/accounts/sso/reauthenticate/" if through_idp else methods[0]["url"]
    return redirect(f"{url}?{urlencode({'next': back})}")


def requires_role(*roles: str) -> Callable:
    """Restrict unsafe methods of an org view to ``roles`` (default: owner and admin)."""

    def mark(view: Callable) -> Callable:
        view.tenancy_write_roles = frozenset(roles)  # type: ignore[attr-defined]
        return view

    return mark


def resolve_tenant(user, org_id: str) -> Tenant:
    """The caller's tenant for ``org_id``, or Http404 when not a member (or no such org)."""
    membership = (
        Membership.objects.select_related("org", "org__sso").filter(org_id=org_id, user=user).first()
        if user.is_authenticated
        else None
    )
    if membership is None:
        raise Http404("No such organization.")
    return Tenant(org=membership.org, membership=membership)


def check_role(tenant: Tenant, method: str, write_roles: Iterable[str]) -> None:
    if method.upper() not in SAFE_METHODS and tenant.role not in write_roles:
        raise PermissionDenied(
            f"Your role in {tenant.org.name} is {tenant.membership.get_role_display()}: "
            "it can view but not change this."
        )


class TenancyMiddleware:
    """Resolve ``request.tenant`` for every view whose URL carries an org id."""

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        request.tenant = None  # type: ignore[attr-defined]
        response = self.get_response(request)
        if getattr(request, "htmx", False) and response.status_code == 302:
            # An account page (re-authenticate, enrol a factor) is a whole page: htmx is
            # told to go there, not to swap it into the fragment it asked for.
            location = response["Location"]
            if location.startswith("/accounts/"):
                response = HttpResponse(status=200, headers={"HX-Redirect": location})
        return response

    def process_view(self, request: HttpRequest, view_func: Callable, view_args, view_kwargs):
        org_id = view_kwargs.get(ORG_URL_KWARG)
        if org_id is None:
            return None
        if not request.user.is_authenticated:
            if getattr(request, "htmx", False):  # not the sign-in page swapped into a fragment
                return HttpResponse(SESSION_ENDED, status=401)
            return redirect_to_login(request.get_full_path())
        tenant = resolve_tenant(request.user, org_id)
        request.tenant = tenant  # type: ignore[attr-defined]  (the 403 page shows the org)
        if tenant.org.require_mfa and not is_mfa_enabled(request.user):
            return _enrol_first(request, tenant.org)
        if (config := sso.needs_sso(request, tenant.org)) is not None:
            return _through_sso_first(request, config)
        _remember_org(request, tenant.membership)
        check_role(tenant, request.method, getattr(view_func, "tenancy_write_roles", WRITE_ROLES))
        return None


LAST_ORG = "cloudsignal_last_org"
MFA_REQUIRED = (
    "{org} asks every member for a second factor: add an authenticator app or a security key first."
)


def _enrol_first(request: HttpRequest, org) -> HttpResponse:
    """A member of an org that requires MFA, without a factor: to the enrolment page, with
    a word (for htmx, the same sentence where the request came from)."""
    message = MFA_REQUIRED.format(org=org.name)
    if getattr(request, "htmx", False):
        return HttpResponse(f"<p data-error>{escape(message)}</p>", status=403)
    messages.warning(request, message)
    return redirect("mfa_index")


SSO_REQUIRED = "{org} does not accept password sign-in: continue through its single sign-on."


def _through_sso_first(request: HttpRequest, config) -> HttpResponse:
    """A member of an org that forbids password sign-in, in a session that did not sign in
    through its IdP: a page that continues there (htmx: the sentence, in place)."""
    if getattr(request, "htmx", False):
        return HttpResponse(
            f"<p data-error>{escape(SSO_REQUIRED.format(org=config.org.name))}</p>", status=403
        )
    return render(
        request,
        "account/sso_required.html",
        {"org": config.org, "config": config, "next": request.get_full_path()},
        status=403,
    )


def _remember_org(request: HttpRequest, membership) -> None:
    """Note the org this member works in, for the next sign-in's landing; written when it
    changes in this session, not on every request."""
    if request.session.get(LAST_ORG) == membership.org_id:
        return
    request.session[LAST_ORG] = membership.org_id
    type(membership).objects.filter(pk=membership.pk).update(last_used_at=timezone.now())
