"""Account pages of the dashboard's own, beside django-allauth's (mounted at /accounts/)."""

from __future__ import annotations

from django.urls import path

from . import sso_views

app_name = "accounts"

urlpatterns = [
    path("sso/", sso_views.sso_start, name="sso_start"),
    path("sso/reauthenticate/", sso_views.sso_reauthenticate, name="sso_reauthenticate"),
    # allauth's OpenID Connect URLs (same paths, so allauth's reverse() finds them), served by
    # views that always verify the ID token's signature (accounts.sso_views).
    path("oidc/<str:provider_id>/login/", sso_views.oidc_login, name="oidc_login"),
    path("oidc/<str:provider_id>/login/callback/", sso_views.oidc_callback, name="oidc_callback"),
]
