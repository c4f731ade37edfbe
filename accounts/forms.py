"""django-allauth's account forms in the dashboard's style (ACCOUNT_FORMS)."""

from __future__ import annotations

from allauth.account import forms as allauth_forms

from core.forms import StyledFormMixin


class LoginForm(StyledFormMixin, allauth_forms.LoginForm):
    pass


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
