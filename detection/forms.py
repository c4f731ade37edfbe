"""Forms of the detection app: alert actions and the detection settings."""

from __future__ import annotations

from django import forms

from core import egress
from core.forms import StyledFormMixin

from . import registry
from .alerts import COMMENT_MAX
from .models import ScanSettings


class AlertActionForm(StyledFormMixin, forms.Form):
    comment = forms.CharField(
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What you found or did; it goes to the audit log.",
    )


def _field(setting: registry.Setting) -> forms.Field:
    if setting.is_switch:
        return forms.BooleanField(required=False, label=setting.label, help_text=setting.help)
    return forms.IntegerField(
        label=setting.label,
        help_text=setting.help,
        min_value=setting.low,
        max_value=setting.high,
        error_messages={
            "min_value": f"Use at least {setting.low:,}.",
            "max_value": f"Use at most {setting.high:,}.",
            "required": "Enter a whole number.",
            "invalid": "Enter a whole number.",
        },
    )


class ScanSettingsForm(StyledFormMixin, forms.Form):
    """Every registered detector's settings, then the webhook."""

    webhook_url = forms.URLField(
        required=False,
        max_length=500,
        assume_scheme="https",
        label="Webhook URL (alerts are POSTed here, signed)",
    )
    rotate_secret = forms.BooleanField(
        required=False, label="Rotate the webhook signing secret (the new one is shown once)"
    )

    def __init__(self, data=None, *, current: ScanSettings):
        initial = {**current.values.as_dict(), "webhook_url": current.webhook_url}
        super().__init__(data, initial=initial)
        added = {s.name: _field(s) for s in registry.settings().values()}
        self.style(added.values())
        self.fields.update(added)
        self.order_fields([*added, "webhook_url", "rotate_secret"])  # as on the page

    def groups(self) -> list[tuple[registry.Spec, list]]:
        """Each detector with its bound fields, for the page."""
        return [(spec, [self[s.name] for s in spec.settings]) for spec in registry.detectors()]

    def webhook_fields(self) -> list:
        return [self["webhook_url"], self["rotate_secret"]]

    def clean_webhook_url(self) -> str:
        url = self.cleaned_data["webhook_url"].strip()
        if url:
            try:
                egress.check(url)
            except egress.Refused as error:
                raise forms.ValidationError(str(error)) from None
        return url
