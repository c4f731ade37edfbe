"""The project's URLs plus one org URL the isolation harness has no case for."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import path

from cloudsignal_dashboard.urls import urlpatterns as project_urlpatterns


def leaky(request, org_id):
    return HttpResponse("no tenancy case for me")


urlpatterns = [*project_urlpatterns, path("o/<org_id:org_id>/leaky/", leaky, name="leaky")]
