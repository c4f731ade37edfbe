"""Form helpers every app shares."""

from __future__ import annotations

from django import forms


class StyledFormMixin:
    """Give widgets Bootstrap classes, and mark invalid fields after validation."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.style(self.fields.values())

    @staticmethod
    def style(fields) -> None:
        """Bootstrap classes for these fields (a form that adds fields in ``__init__`` calls it)."""
        for field in fields:
            if isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs["class"] = (
                    f"{field.widget.attrs.get('class', '')} form-check-input".strip()
                )
                continue
            if isinstance(field.widget, forms.CheckboxSelectMultiple):
                continue  # rendered as a list of checks, styled in the template
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs["class"] = f"{field.widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid"
                widget.attrs["aria-invalid"] = "true"


def add_service_errors(form: forms.Form, error) -> None:
    """Show a service's ValidationError on the form: on its field when it names one."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)
