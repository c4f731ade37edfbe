"""The owner's form for the org's single sign-on (the rules are orgs.sso's)."""

from __future__ import annotations

from django import forms

from core.forms import StyledFormMixin

from . import sso
from .models import SsoConfig

ROLE_CHOICES = [(r.value, r.label) for r in sso.SSO_ROLES]


class SsoForm(StyledFormMixin, forms.Form):
    issuer = forms.URLField(
        label="Issuer",
        max_length=300,
        assume_scheme="https",
        help_text="Your identity provider's issuer URL; its /.well-known/openid-configuration "
        "is read when you save.",
    )
    client_id = forms.CharField(label="Client id", max_length=200)
    client_secret = forms.CharField(
        label="Client secret",
        max_length=500,
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Kept encrypted and never shown again; leave empty to keep the current one.",
    )
    domains = forms.CharField(
        label="Email domains",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="People with these addresses sign in through this provider (one per line or comma "
        "separated). You need a verified address at each.",
    )
    default_role = forms.ChoiceField(
        label="Role of new members",
        choices=ROLE_CHOICES,
        help_text="Members who sign in for the first time join with this role. Owners are only made here.",
    )
    group_roles = forms.CharField(
        label="Roles from groups",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional, one 'group = admin' or 'group = auditor' per line. With a mapping, each "
        "sign-in sets the role from the provider's groups claim.",
    )
    groups_claim = forms.CharField(label="Groups claim", max_length=100, initial="groups")
    password_sign_in = forms.BooleanField(
        label="Members may also sign in with a password",
        required=False,
        initial=True,
        help_text="Off: this organization's pages open only in a session signed in through the provider.",
    )
    enabled = forms.BooleanField(label="Single sign-on is on", required=False, initial=True)

    @classmethod
    def initial_of(cls, config: SsoConfig | None) -> dict:
        if config is None:
            return {}
        return {
            "issuer": config.issuer,
            "client_id": config.client_id,
            "domains": "\n".join(config.domains.order_by("domain").values_list("domain", flat=True)),
            "default_role": config.default_role,
            "group_roles": "\n".join(f"{g} = {r}" for g, r in sorted(config.group_roles.items())),
            "groups_claim": config.groups_claim,
            "password_sign_in": config.password_sign_in,
            "enabled": config.enabled,
        }

    def values(self) -> sso.Settings:
        """The entered settings (ValidationError from the domain and mapping parsers)."""
        data = self.cleaned_data
        return sso.Settings(
            issuer=data["issuer"],
            client_id=data["client_id"],
            client_secret=data["client_secret"],
            domains=sso.parse_domains(data["domains"]),
            default_role=data["default_role"],
            group_roles=sso.parse_group_roles(data["group_roles"]),
            groups_claim=data["groups_claim"].strip(),
            password_sign_in=data["password_sign_in"],
            enabled=data["enabled"],
        )
