"""Admin registrations of orgs."""

from __future__ import annotations

from django.contrib import admin

from .models import Membership, Organization


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "created_at", "max_mqtt_users", "max_connections")
    search_fields = ("id", "name")
    readonly_fields = ("id", "created_at")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("org", "user", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("org__id", "org__name", "user__email")
