"""Pages of dashboard accounts that are ours; django-allauth serves sign-up, sign-in,
sign-out, email verification and passwords (``accounts.adapter`` tunes it)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def cooloff() -> str:
    """How long a paused sign-in waits, in words (the lockout page tells the person)."""
    minutes = max(1, round(settings.AXES_COOLOFF_TIME * 60))
    return (
        f"{minutes} minute{'s' if minutes != 1 else ''}" if minutes < 120 else f"{round(minutes / 60)} hours"
    )


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """The page of a paused sign-in (django-axes' AXES_LOCKOUT_CALLABLE, and the wider
    per-address and per-account limits): what happened and when to try again."""
    return render(request, settings.AXES_LOCKOUT_TEMPLATE, {"cooloff": cooloff()}, status=429)
