"""Org-scoped ACL pages, mounted under /o/<org_id>/acls/."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "acls"

urlpatterns = [
    path("", views.index, name="index"),
    path("simulator/", views.simulator, name="simulator"),
    path("assign/", views.bulk_assign, name="bulk_assign"),
    path("sets/new/", views.rule_set_create, name="rule_set_create"),
    path("sets/<str:name>/", views.rule_set_page, name="rule_set"),
    path("sets/<str:name>/edit/", views.rule_set_edit, name="rule_set_edit"),
    path("sets/<str:name>/delete/", views.rule_set_delete, name="rule_set_delete"),
    path("sets/<str:name>/history/", views.history, {"kind": "rule_set"}, name="rule_set_history"),
    path(
        "sets/<str:name>/history/<int:number>/rollback/",
        views.rollback,
        {"kind": "rule_set"},
        name="rule_set_rollback",
    ),
    path("users/<str:name>/", views.user_page, name="user"),
    path("users/<str:name>/snippet-note/", views.user_snippet_note, name="user_snippet_note"),
    path("users/<str:name>/edit/", views.user_edit, name="user_edit"),
    path("users/<str:name>/history/", views.history, {"kind": "user"}, name="user_history"),
    path(
        "users/<str:name>/history/<int:number>/rollback/",
        views.rollback,
        {"kind": "user"},
        name="user_rollback",
    ),
]
