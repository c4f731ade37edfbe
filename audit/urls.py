from __future__ import annotations

from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("", views.audit_log, name="log"),
]

session_urlpatterns = [
    path("", views.sessions, name="list"),
    path("disconnect/", views.session_disconnect, name="disconnect"),
]
