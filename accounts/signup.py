"""The sign-up's own field (ACCOUNT_SIGNUP_FORM_CLASS). A module apart from accounts.forms:
allauth builds its sign-up form on this class, so it cannot import allauth's forms."""

from __future__ import annotations

from django import forms

from orgs.models import Organization


class SignupOrgForm(forms.Form):
    """What sign-up asks beside the email and password (ACCOUNT_SIGNUP_FORM_CLASS): the first
    organization's name, created once the email is verified (``accounts.adapter``)."""

    org_name = forms.CharField(
        label="Organization name",
        max_length=Organization._meta.get_field("name").max_length,
        required=False,
        help_text="Your first organization, created when you confirm your email. Leave it empty if "
        "you were invited to one.",
    )

    def clean_org_name(self) -> str:
        return self.cleaned_data["org_name"].strip()

    def signup(self, request, user) -> None:
        user.pending_org_name = self.cleaned_data.get("org_name", "")
        user.save(update_fields=["pending_org_name"])
