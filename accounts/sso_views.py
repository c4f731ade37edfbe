"""Signing in through an org's identity provider: the step that routes an email to its org's
IdP, and allauth's OpenID Connect views with two checks allauth leaves out.

allauth skips the ID token's signature when the token came straight from the token endpoint
(OpenID Connect allows that over TLS); here it is always verified, so a token altered on the
way (a proxy, a compromised network path) is refused, and the discovery document must name
the issuer the owner configured (no mix-up with another IdP)."""

from __future__ import annotations

import requests
from allauth.account.internal.decorators import login_not_required
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.internal import jwtkit
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from accounts.sso_adapter import refused
from orgs import sso
from orgs.models import provider_id_of


class VerifiedOIDCAdapter(OpenIDConnectOAuth2Adapter):
    @property
    def openid_config(self):
        config = super().openid_config
        expected = self.get_provider().app.settings["server_url"].rstrip("/")
        if str(config.get("issuer", "")).rstrip("/") != expected:
            raise OAuth2Error(f"the provider describes the issuer {config.get('issuer')!r}, not {expected!r}")
        return config

    def complete_login(self, request: HttpRequest, app, token, **kwargs):
        login = super().complete_login(request, app, token, **kwargs)
        extra = login.account.extra_data or {}
        userinfo, id_token = extra.get("userinfo") or {}, extra.get("id_token") or {}
        if userinfo and id_token and userinfo.get("sub") != id_token.get("sub"):
            # OpenID Connect Core 5.3.2: the UserInfo is about the ID token's subject, or ignored.
            raise OAuth2Error("the provider's userinfo names another subject than its ID token")
        return login

    def _decode_id_token(self, app: SocialApp, id_token: str) -> dict:
        return jwtkit.verify_and_decode(
            credential=id_token,
            keys_url=self.openid_config["jwks_uri"],
            issuer=self.openid_config["issuer"],
            audience=app.client_id,
            lookup_kid=jwtkit.lookup_kid_jwk,
            verify_signature=True,
        )


@login_not_required
def oidc_login(request: HttpRequest, provider_id: str) -> HttpResponse:
    try:
        return OAuth2LoginView.adapter_view(VerifiedOIDCAdapter(request, provider_id))(request)
    except SocialApp.DoesNotExist:
        raise Http404("No such sign-on.") from None


@login_not_required
def oidc_callback(request: HttpRequest, provider_id: str) -> HttpResponse:
    try:
        return OAuth2CallbackView.adapter_view(VerifiedOIDCAdapter(request, provider_id))(request)
    except SocialApp.DoesNotExist:
        raise Http404("No such sign-on.") from None


class SsoStartForm(forms.Form):
    email = forms.EmailField(label="Work email", max_length=254, required=False)
    # From the page of an org that forbids passwords: that org's provider, whatever the email.
    org = forms.CharField(required=False, max_length=16, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if not data.get("email") and not data.get("org") and "email" not in self.errors:
            self.add_error("email", "Enter your work email.")
        return data


@login_not_required
@require_http_methods(["GET", "POST"])
def sso_start(request: HttpRequest) -> HttpResponse:
    """ "Sign in with single sign-on": the email's domain names the org whose IdP it goes to.
    It says whether a domain uses single sign-on, never whether an account exists."""
    form = SsoStartForm(request.POST or None, initial={"email": request.GET.get("email", "")})
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        if form.cleaned_data["org"]:
            config = sso.config_for_provider(provider_id_of(form.cleaned_data["org"]))
            if config is None:
                raise Http404("No such sign-on.")
            return redirect_to_idp(request, config, email)
        config = sso.config_for_email(email)
        if config is None:
            form.add_error(
                "email",
                f"No organization signs in {sso.domain_of(email)} through single sign-on: "
                "sign in with your password instead.",
            )
        else:
            return redirect_to_idp(request, config, email)
    status = 400 if form.errors else 200
    return render(request, "account/sso_start.html", {"form": form}, status=status)


def safe_next(request: HttpRequest) -> str | None:
    """Where to go after the IdP: a path of this dashboard, judged by Django's own rule
    (``/\\evil.example`` is another site to a browser, though it starts with one slash)."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=False)
    return url if allowed and url.startswith("/") else None


@login_required
@require_http_methods(["GET"])
def sso_reauthenticate(request: HttpRequest) -> HttpResponse:
    """Sudo mode for a session that signed in through an IdP: back through it, which must
    authenticate the person again (prompt=login, max_age=0; orgs.sso checks auth_time)."""
    record = sso.last_idp_sign_in(request)
    config = sso.config_for_provider(record.get("provider", "")) if record else None
    if config is None:
        return redirect("account_reauthenticate")
    return redirect_to_idp(request, config, request.user.email, fresh=True)


def redirect_to_idp(request: HttpRequest, config, email: str = "", *, fresh: bool = False) -> HttpResponse:
    """Off to the org's IdP (allauth keeps the state and PKCE verifier in the session).

    A page that continues there (a meta refresh and a link), not a redirect: the page that
    posted the form allows form actions to this origin only (CSP form-action 'self'), which
    Chromium applies to the redirect too."""
    provider = get_adapter(request).get_provider(request, config.provider_id)
    auth_params = provider.get_auth_params()
    if email:
        auth_params["login_hint"] = email
    if fresh:
        auth_params.update(prompt="login", max_age="0")
    try:
        to_idp = provider.redirect(
            request,
            "login",
            next_url=safe_next(request),
            auth_params=auth_params,
        )
    except (requests.RequestException, OAuth2Error, KeyError, ValueError) as error:
        message = (
            f"{config.org.name}'s identity provider does not answer ({sso.reason(error)}); try again later."
        )
        return refused(request, message, config, status=502)
    return render(request, "account/sso_continue.html", {"idp_url": to_idp["Location"], "org": config.org})
