"""Forms for organizations and members. Model rules (quotas, TTLs) live on the model."""

from __future__ import annotations

from django import forms

from core.api import Scope
from core.forms import StyledFormMixin

from .models import QUOTA_BOUNDS, Organization, Role


class OrgCreateForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label="Organization name", max_length=100)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the organization a name.")
        return name


class OrgSettingsForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Organization
        fields = ["name", *QUOTA_BOUNDS, "require_mfa"]
        help_texts = {
            "max_mqtt_users": "How many MQTT users this org may have (1–100,000).",
            "max_connections": "Concurrent MQTT connections across all users (1–1,000,000).",
            "token_ttl_default": (
                "Lifetime of a temporary token when none is asked for (60 s up to the maximum)."
            ),
            "token_ttl_max": "Longest lifetime a token may be given (60 s–86,400 s, i.e. 24 h).",
            "audit_retention_days": "Audit events older than this are purged (7–3,650 days).",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, (low, high) in QUOTA_BOUNDS.items():
            self.fields[name].widget.attrs.update({"min": low, "max": high})


class InviteForm(StyledFormMixin, forms.Form):
    email = forms.EmailField(label="Email", help_text="They get a link to accept or decline; it works once.")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.ADMIN)


class MemberRoleForm(StyledFormMixin, forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class ApiKeyCreateForm(StyledFormMixin, forms.Form):
    name = forms.CharField(max_length=100, help_text="Which backend uses it, e.g. 'web backend (prod)'.")
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices,
        initial=[Scope.TOKENS_MINT],
        widget=forms.CheckboxSelectMultiple,
        help_text="Grant the least that works: a backend that only mints tokens needs tokens:mint.",
    )
