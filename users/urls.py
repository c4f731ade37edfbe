"""Org-scoped pages of MQTT users (/o/<org_id>/users/) and tokens (/o/<org_id>/tokens/)."""

from __future__ import annotations

from django.urls import path

from . import bulk_views, views

app_name = "users"

urlpatterns = [
    path("", views.user_list, name="list"),
    path("new/", views.user_create, name="create"),
    path("bulk/", bulk_views.users_bulk, name="bulk"),
    path("<str:name>/", views.user_detail, name="detail"),
    path("<str:name>/rotate/", views.user_rotate, name="rotate"),
    path("<str:name>/update/", views.user_update, name="update"),
    path("<str:name>/delete/", views.user_delete, name="delete"),
]

token_urlpatterns = [
    path("", views.token_list, name="list"),
    path("mint/", views.token_mint, name="mint"),
    path("revoke/", bulk_views.tokens_bulk_revoke, name="bulk_revoke"),
    path("<str:token_id>/revoke/", views.token_revoke, name="revoke"),
]
