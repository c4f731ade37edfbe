"""Account pages of the dashboard's own, beside django-allauth's (mounted at /accounts/)."""

from __future__ import annotations

app_name = "accounts"

urlpatterns: list = []
