from __future__ import annotations

from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("", views.audit_log, name="log"),
    path("export.csv", views.audit_export, {"fmt": "csv"}, name="export_csv"),
    path("export.jsonl", views.audit_export, {"fmt": "jsonl"}, name="export_jsonl"),
    path("verify/", views.audit_verify, name="verify"),
    # The event's place in the org's chain: per org, so an URL names nothing of another org.
    path("<int:seq>/", views.audit_detail, name="detail"),
]
