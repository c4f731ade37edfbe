"""Health endpoints for load balancers and operators."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def live(request: HttpRequest) -> JsonResponse:
    """The process answers (no dependency is touched): for liveness probes."""
    return JsonResponse({"status": "ok"})


def database_unavailable() -> str | None:
    """None when the database answers; else the error's class name."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # any failure means "not ready"; the class name says which
        return type(error).__name__
    return None
