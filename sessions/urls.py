"""The Sessions pages, mounted under /o/<org_id>/sessions/."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "sessions"

urlpatterns = [
    path("", views.sessions, name="list"),
    path("disconnect/", views.session_disconnect, name="disconnect"),
    path("<int:session_id>/", views.session_detail, name="detail"),
]
