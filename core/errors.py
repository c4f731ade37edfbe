"""Errors services raise, beyond Django's ValidationError (invalid input, 422)."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class Conflict(ValidationError):
    """Valid input that clashes with the current state: a taken name, a full quota (409)."""
