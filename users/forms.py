"""Forms of the MQTT user and token pages; rules live in the services."""

from __future__ import annotations

from django import forms

from core.forms import StyledFormMixin
from core.text import duration_words

from .models import ROTATION_GRACE_CHOICES, TokenStatus
from .selectors import USER_STATUS_FILTERS


class UserCreateForm(StyledFormMixin, forms.Form):
    name = forms.CharField(
        max_length=64,
        help_text="1–64 of a–z, 0–9, dot, underscore, hyphen. The username becomes name@org.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    description = forms.CharField(max_length=500, required=False, help_text="What connects with it.")


class UserFilterForm(StyledFormMixin, forms.Form):
    q = forms.CharField(required=False, label="Search")
    status = forms.ChoiceField(
        required=False,
        choices=[("", "All users")] + [(k, k.replace("_", " ").capitalize()) for k in USER_STATUS_FILTERS],
        widget=forms.Select(attrs={"aria-label": "Status"}),
    )


class RotateForm(StyledFormMixin, forms.Form):
    grace_seconds = forms.TypedChoiceField(
        label="Previous secret keeps working for", choices=ROTATION_GRACE_CHOICES, coerce=int, initial=0
    )


class DescriptionForm(StyledFormMixin, forms.Form):
    description = forms.CharField(
        max_length=500, required=False, widget=forms.TextInput(attrs={"aria-label": "Description"})
    )


LIFETIMES = (300, 900, 3600, 4 * 3600, 8 * 3600, 86400, 7 * 86400)


class TokenMintForm(StyledFormMixin, forms.Form):
    user = forms.ChoiceField(label="MQTT user")
    lifetime = forms.TypedChoiceField(
        label="Lifetime",
        coerce=int,
        error_messages={"invalid_choice": "Choose one of the lifetimes listed."},
    )
    label = forms.CharField(max_length=100, required=False, help_text="Where it is used, e.g. 'ops console'.")

    def __init__(self, *args, users=(), default_ttl: int = 3600, max_ttl: int = 86400, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [(u.name, u.name) for u in users]
        # The presets this org allows, with its default and its maximum among them.
        seconds = sorted({s for s in LIFETIMES if 60 <= s <= max_ttl} | {default_ttl, max_ttl})
        self.fields["lifetime"].choices = [
            (s, duration_words(s) + (" (the default)" if s == default_ttl else "")) for s in seconds
        ]
        self.fields["lifetime"].initial = default_ttl
        self.fields["lifetime"].help_text = f"At most {duration_words(max_ttl)} in this organization."


class TokenFilterForm(StyledFormMixin, forms.Form):
    user = forms.CharField(required=False, label="User")
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Any status"), *TokenStatus.choices],
        widget=forms.Select(attrs={"aria-label": "Status"}),
    )
