"""The broker contract under /broker/v1/ (DESIGN §6)."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "broker"
MOUNT = "broker/v1/"  # where the project's URL conf includes these

urlpatterns = [
    path("authn", views.authn_view, name="authn"),
    path("authz", views.authz_view, name="authz"),
    path("events", views.events_view, name="events"),
    path("revocations", views.revocations_view, name="revocations"),
]
