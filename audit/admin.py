"""Admin registrations of audit."""

from __future__ import annotations

from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only, the admin site included."""

    list_display = ("at", "org", "actor_label", "action", "subject_label", "outcome", "peer_ip")
    list_filter = ("action", "outcome", "actor_type")
    search_fields = ("org__id", "subject_label", "actor_label")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
