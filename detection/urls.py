"""Pages of detection: the overview (/o/<org_id>/), alerts (/o/<org_id>/alerts/) and the
detection settings (/o/<org_id>/settings/detection/)."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "detection"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("ca.pem", views.ca_certificate, name="ca"),
    path("settings/detection/", views.detection_settings, name="settings"),
    path("settings/detection/webhook-test/", views.webhook_test, name="webhook_test"),
]

alert_urlpatterns = [
    path("", views.alert_list, name="list"),
    path("<str:alert_id>/", views.alert_detail, name="detail"),
    path("<str:alert_id>/acknowledge/", views.alert_acknowledge, name="acknowledge"),
    path("<str:alert_id>/resolve/", views.alert_resolve, name="resolve"),
    path("<str:alert_id>/respond/", views.alert_respond, name="respond"),
]
