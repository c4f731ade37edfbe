"""Forms for dashboard accounts: sign-up and sign-in."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm

from core.forms import StyledFormMixin
from orgs.models import Organization


class SignupForm(StyledFormMixin, forms.Form):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    org_name = forms.CharField(
        label="Organization name",
        max_length=Organization._meta.get_field("name").max_length,
        help_text="Your first organization; you can create more later.",
    )

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email already exists. Sign in instead.")
        return email

    def clean_org_name(self) -> str:
        name = self.cleaned_data["org_name"].strip()
        if not name:
            raise forms.ValidationError("Give the organization a name.")
        return name

    def clean(self):
        cleaned = super().clean()
        password = cleaned.get("password")
        if password:
            user = get_user_model()(email=cleaned.get("email", ""))
            try:
                password_validation.validate_password(password, user)
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned


class EmailAuthenticationForm(StyledFormMixin, AuthenticationForm):
    """Django's sign-in form with the email as the username."""

    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )


class StyledPasswordChangeForm(StyledFormMixin, PasswordChangeForm):
    """Django's password change form, in the dashboard's style."""
