"""What the account pages need on every render: whether sign-up is open."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def accounts(request: HttpRequest) -> dict:
    return {"signup_enabled": settings.SIGNUP_ENABLED}
