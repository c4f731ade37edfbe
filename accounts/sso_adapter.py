"""django-allauth's social accounts, as the dashboard uses them: each org's OpenID provider
is an app built from its ``orgs.SsoConfig`` (nothing in allauth's own tables), every request
to an IdP passes the egress rule, and who may sign in through an IdP is ``orgs.sso``'s rule."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp, SocialLogin
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.shortcuts import render

from orgs import sso
from orgs.models import SsoConfig

OIDC = "openid_connect"


def app_of(config: SsoConfig) -> SocialApp:
    return SocialApp(
        provider=OIDC,
        provider_id=config.provider_id,
        name=config.org.name,
        client_id=config.client_id,
        secret=sso.client_secret(config),
        settings={"server_url": config.issuer, "oauth_pkce_enabled": True, "fetch_userinfo": True},
    )


def refused(request: HttpRequest, message: str, config: SsoConfig | None = None, status: int = 403):
    return render(
        request,
        "socialaccount/authentication_error.html",
        {"sso_error": message, "sso_org": config.org.name if config else ""},
        status=status,
    )


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def list_apps(self, request, provider=None, client_id=None) -> list[SocialApp]:
        # Only a named org's provider: a list of every org's IdP would be a customer list.
        config = sso.config_for_provider(provider or "")
        if config is None or (client_id and client_id != config.client_id):
            return []
        return [app_of(config)]

    def get_requests_session(self):
        return sso.egress_session()

    def _config(self, sociallogin: SocialLogin) -> SsoConfig:
        config = sso.config_for_provider(sociallogin.account.provider)
        if config is None:  # turned off while the person was at the IdP
            raise ImmediateHttpResponse(refused(None, "Single sign-on for this organization is turned off."))
        return config

    def _identity(self, config: SsoConfig, sociallogin: SocialLogin) -> sso.Identity:
        extra = sociallogin.account.extra_data or {}
        claims = {**(extra.get("id_token") or {}), **(extra.get("userinfo") or {})}
        return sso.identity_from_claims(config, sociallogin.account.uid, claims)

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        """Bind, link or refuse, before allauth signs anyone in or creates an account."""
        config = self._config(sociallogin)
        identity = self._identity(config, sociallogin)
        try:
            if not sociallogin.is_existing:
                sso.check_new_subject(config, identity)
                user = get_user_model().objects.filter(email__iexact=identity.email).first()
                if user is not None:
                    sso.check_existing_account(config, user, identity)
                    sociallogin.connect(request, user)
            if sociallogin.is_existing:
                sso.admit(config=config, user=sociallogin.user, identity=identity, request=request)
        except sso.Refused as why:
            raise ImmediateHttpResponse(refused(request, str(why), config)) from None

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return True  # pre_social_login has checked the subject against the org's rule

    def is_auto_signup_allowed(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return True

    def save_user(self, request: HttpRequest, sociallogin: SocialLogin, form=None):
        """A new account for a subject the org's IdP vouches for: no password (the IdP is
        how it signs in), its email verified, its membership just in time."""
        config = self._config(sociallogin)
        identity = self._identity(config, sociallogin)
        user = super().save_user(request, sociallogin, form)
        user.set_unusable_password()
        user.save(update_fields=["password"])
        EmailAddress.objects.filter(user=user, email__iexact=identity.email).update(
            verified=True, primary=True
        )
        sso.admit(config=config, user=user, identity=identity, request=request)
        return user

    def is_email_verified(self, provider, email) -> bool:
        return False  # read from the claims in orgs.sso, never assumed per provider

    def on_authentication_error(self, request, provider, error=None, exception=None, extra_context=None):
        config = sso.config_for_provider(getattr(getattr(provider, "app", None), "provider_id", "") or "")
        detail = request.GET.get("error_description") or request.GET.get("error") or ""
        if exception is not None and not detail:
            detail = str(exception) or type(exception).__name__
        name = config.org.name if config else "The organization"
        message = f"{name}'s identity provider did not sign you in"
        message += f": {detail[:200]}." if detail else "."
        raise ImmediateHttpResponse(refused(request, message, config, status=401))
