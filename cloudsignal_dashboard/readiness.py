"""``/readyz`` for load balancers and operators: the database answers and, with EMQX, the
revocation relay keeps up (entries waiting longer than EMQX_RELAY_MAX_LAG_SECONDS make it
503: revocations are not reaching the broker)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from broker.emqx.relay import status
from core.health import database_unavailable


@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    failure = database_unavailable()
    if failure:
        return JsonResponse({"status": "unavailable", "database": failure}, status=503)
    if not settings.EMQX_API_URL:
        return JsonResponse({"status": "ok"})
    relay = status()
    lagging = relay["oldest_pending_seconds"] > settings.EMQX_RELAY_MAX_LAG_SECONDS
    return JsonResponse(
        {"status": "lagging" if lagging else "ok", "emqx_relay": relay}, status=503 if lagging else 200
    )
