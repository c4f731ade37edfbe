"""Forms of the ACL pages; rule validation lives in acls.policy."""

from __future__ import annotations

from django import forms

from acls.topics import InvalidTopic, validate_filter, validate_topic
from core.forms import StyledFormMixin


class RuleSetCreateForm(StyledFormMixin, forms.Form):
    name = forms.CharField(max_length=64, help_text="Like a role: agent, dashboard, ops.")
    description = forms.CharField(max_length=500, required=False)


class SimulatorForm(StyledFormMixin, forms.Form):
    user = forms.ChoiceField(required=False, label="MQTT user")
    token = forms.CharField(
        required=False, max_length=64, label="…or a token id", help_text="cst_… of a token"
    )
    client_id = forms.CharField(required=False, max_length=256, label="Client id (for %c)")
    action = forms.ChoiceField(choices=[("publish", "PUBLISH"), ("subscribe", "SUBSCRIBE")])
    topic = forms.CharField(
        max_length=65_535, help_text="A topic (publish) or a filter (subscribe), relative."
    )

    def __init__(self, *args, users=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [("", "—")] + [(u.name, u.name) for u in users]

    def clean(self):
        data = super().clean()
        if bool(data.get("user")) == bool(data.get("token")):
            raise forms.ValidationError("Choose a user or give a token id (one of them).")
        topic, action = data.get("topic"), data.get("action")
        if topic and action:
            try:
                (validate_topic if action == "publish" else validate_filter)(topic)
            except InvalidTopic as error:
                self.add_error("topic", str(error))
        return data
