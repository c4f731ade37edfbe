from __future__ import annotations

from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("", views.audit_log, name="log"),
    path("export.csv", views.audit_export, {"fmt": "csv"}, name="export_csv"),
    path("export.jsonl", views.audit_export, {"fmt": "jsonl"}, name="export_jsonl"),
]

session_urlpatterns = [
    path("", views.sessions, name="list"),
    path("disconnect/", views.session_disconnect, name="disconnect"),
]
