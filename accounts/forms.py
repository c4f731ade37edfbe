"""django-allauth's account and second-factor forms in the dashboard's style
(ACCOUNT_FORMS, MFA_FORMS)."""

from __future__ import annotations

from allauth.account import forms as allauth_forms
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.base import forms as mfa_forms
from allauth.mfa.totp import forms as totp_forms

from core.forms import StyledFormMixin
from orgs import sso

from .sso_views import redirect_to_idp


class LoginForm(StyledFormMixin, allauth_forms.LoginForm):
    def clean(self):
        # An email of a domain whose org forbids passwords goes to its IdP, unchecked here.
        # (Routing only: the ban itself is enforced on the org's pages, orgs.tenancy.)
        email = str(self.data.get("login", "")).strip()
        if self.request is not None and self.request.GET.get("password") != "1":
            config = sso.config_for_email(email)
            if config is not None and not config.password_sign_in:
                raise ImmediateHttpResponse(redirect_to_idp(self.request, config, email))
        return super().clean()


class SignupForm(StyledFormMixin, allauth_forms.SignupForm):
    pass


class ResetPasswordForm(StyledFormMixin, allauth_forms.ResetPasswordForm):
    pass


class ResetPasswordKeyForm(StyledFormMixin, allauth_forms.ResetPasswordKeyForm):
    pass


class ChangePasswordForm(StyledFormMixin, allauth_forms.ChangePasswordForm):
    pass


class SetPasswordForm(StyledFormMixin, allauth_forms.SetPasswordForm):
    pass


class ReauthenticateForm(StyledFormMixin, allauth_forms.ReauthenticateForm):
    pass


class AddEmailForm(StyledFormMixin, allauth_forms.AddEmailForm):
    pass


class AuthenticateForm(StyledFormMixin, mfa_forms.AuthenticateForm):
    pass


class ReauthenticateMFAForm(StyledFormMixin, mfa_forms.ReauthenticateForm):
    pass


class ActivateTOTPForm(StyledFormMixin, totp_forms.ActivateTOTPForm):
    pass


class DeactivateTOTPForm(StyledFormMixin, totp_forms.DeactivateTOTPForm):
    pass
