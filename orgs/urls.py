"""Org-scoped pages of the ``orgs`` app, mounted under /o/<org_id>/."""

from __future__ import annotations

from django.urls import path

from . import sso_views, views

app_name = "orgs"

urlpatterns = [
    path("settings/", views.org_settings, name="settings"),
    path("settings/members/", views.members, name="members"),
    path("settings/members/<str:member_id>/role/", views.member_role, name="member_role"),
    path("settings/members/<str:member_id>/remove/", views.member_remove, name="member_remove"),
    path(
        "settings/invitations/<str:invitation_id>/withdraw/",
        views.invitation_withdraw,
        name="invitation_withdraw",
    ),
    path("settings/sso/", sso_views.sso_settings, name="sso"),
    path("settings/sso/remove/", sso_views.sso_remove, name="sso_remove"),
    path("settings/api-keys/", views.api_keys, name="api_keys"),
    path("settings/api-keys/new/", views.api_key_create, name="api_key_create"),
    path("settings/api-keys/<str:key_id>/revoke/", views.api_key_revoke, name="api_key_revoke"),
]
