"""Forms of the audit app: alert actions and the detection settings."""

from __future__ import annotations

from django import forms

from core import egress
from core.forms import StyledFormMixin

from .alerts import COMMENT_MAX
from .models import ScanSettings
from .tuning import TUNABLE


class AlertActionForm(StyledFormMixin, forms.Form):
    comment = forms.CharField(
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What you found or did; it goes to the audit log.",
    )


class ScanSettingsForm(StyledFormMixin, forms.ModelForm):
    webhook_url = forms.URLField(
        required=False,
        max_length=500,
        assume_scheme="https",
        label="Webhook URL (alerts are POSTed here, signed)",
    )
    rotate_secret = forms.BooleanField(
        required=False, label="Rotate the webhook signing secret (the new one is shown once)"
    )

    class Meta:
        model = ScanSettings
        fields = TUNABLE
        labels = {
            "brute_force_failures": "Brute force: failures",
            "brute_force_minutes": "… within minutes",
            "brute_force_disable_user": "Disable the user when a success follows a brute force",
            "shared_credentials": "Alert on a credential connected twice at once",
            "new_address_days": "New address: not seen for days",
            "new_address_by_subnet": "Compare networks (/24, /64), not single addresses",
            "flapping_connects": "Flapping: connects of one client",
            "flapping_minutes": "… within minutes",
            "acl_denials": "ACL denials of one user",
            "acl_denial_minutes": "… within minutes",
            "mint_tokens": "Tokens minted by one API key",
            "mint_minutes": "… within minutes",
            "dormant_days": "Dormant: secret unused for days",
            "permanent_over_wss": "Alert on a permanent secret used over WebSocket",
        }

    def clean_webhook_url(self) -> str:
        url = self.cleaned_data["webhook_url"].strip()
        if url:
            try:
                egress.check(url)
            except egress.Refused as error:
                raise forms.ValidationError(str(error)) from None
        return url
