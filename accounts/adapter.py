"""How django-allauth behaves here: sign-up follows SIGNUP_ENABLED, sign-in keeps the
dashboard's throttles (django-axes per account and address, and the wider per-address and
per-account limits of ``accounts.throttle``), (the landing in the org used last is ``orgs.views.home``)."""

from __future__ import annotations

from allauth.account import app_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records, record_authentication
from django.conf import settings
from django.http import HttpRequest

from . import throttle


class SignInPaused(Exception):
    """The wider limits are used up: the sign-in is refused before a password is checked."""


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return settings.SIGNUP_ENABLED

    def pre_authenticate(self, request: HttpRequest, **credentials) -> None:
        if throttle.wider_limit_reached(request, throttle.normal_username(request, credentials)):
            # The lockout page, as django-axes answers its own (its middleware reads this).
            request.axes_locked_out = True
            request.axes_credentials = credentials
            raise self.validation_error("too_many_login_attempts")
        super().pre_authenticate(request, **credentials)

    def post_login(self, request: HttpRequest, user, **kwargs):
        """A sign-in counts as a recent authentication: the sensitive actions of the next
        minutes (orgs.tenancy.sensitive) do not ask again right away."""
        response = super().post_login(request, user, **kwargs)
        records = get_authentication_records(request, user)
        if records and records[-1].get("method") in app_settings.REAUTHENTICATION_METHODS:
            last = {k: v for k, v in records[-1].items() if k != "at"}
            record_authentication(request, user, **{**last, "reauthenticated": True})
        return response

    def confirm_email(self, request: HttpRequest, email_address) -> bool:
        """The email is the person's: now the organization sign-up asked for exists."""
        confirmed = super().confirm_email(request, email_address)
        if confirmed:
            from .services import create_pending_org

            create_pending_org(email_address.user, request=request)
        return confirmed

    def authentication_failed(self, request: HttpRequest, **credentials) -> None:
        if credentials.get("password"):
            throttle.count_failure(request, throttle.normal_username(request, credentials))
