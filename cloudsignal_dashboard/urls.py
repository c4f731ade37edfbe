"""URL configuration. Every org page lives under /o/<org_id>/ (see orgs/tenancy.py)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path, register_converter

from broker import urls as broker_urls
from cloudsignal_dashboard import readiness, search
from cloudsignal_dashboard.api import api
from core import health
from detection.urls import alert_urlpatterns
from orgs import invitation_views
from orgs import views as org_views
from orgs.tenancy import OrgIdConverter
from users.urls import token_urlpatterns

register_converter(OrgIdConverter, "org_id")

org_patterns = [
    path("", include("orgs.urls")),
    path("", include("detection.urls")),
    path("users/", include("users.urls")),
    path("tokens/", include((token_urlpatterns, "tokens"))),
    path("acls/", include("acls.urls")),
    path("audit/", include("audit.urls")),
    path("sessions/", include("sessions.urls")),
    path("alerts/", include((alert_urlpatterns, "alerts"))),
    path("search/", search.search, name="search"),
]

urlpatterns = [
    path("", org_views.home, name="home"),
    path("orgs/new/", org_views.org_create, name="org_create"),
    path("invitations/<str:invitation_id>/<str:token>/", invitation_views.invitation, name="invitation"),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", api.urls),
    path(broker_urls.MOUNT, include("broker.urls")),
    path("healthz", health.live, name="healthz"),
    path("readyz", readiness.ready, name="readyz"),
    path("o/<org_id:org_id>/", include(org_patterns)),
    path("admin/", admin.site.urls),
]
