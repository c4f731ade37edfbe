"""The hook API the broker calls (DESIGN §6): authn, authz, events, revocations.

Every endpoint requires ``Authorization: Bearer <BROKER_HOOK_SECRET>`` (constant-time
compare; missing or wrong: 401). A refusal of a client is HTTP 200 ``{"result": "deny"}``:
EMQX ignores any other status and would move on to its next authenticator.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from sessions import revocations

from . import authn, events

FEED_LIMIT = 1000
# No broker sends more than a list of events of flat objects (depth 3); a body nested deeper
# is refused before anything walks it (str() of it would recurse as deep).
MAX_DEPTH = 8


def _too_deep(value, limit: int = MAX_DEPTH) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


def _error(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


def hook(view: Callable) -> Callable:
    """Check the hook secret and parse the JSON body; answer 401/400/413 with a detail."""

    @csrf_exempt
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        # META, not request.headers: that builds a map of every header on each call.
        scheme, _, secret = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        expected = settings.BROKER_HOOK_SECRET
        if scheme.lower() != "bearer" or not hmac.compare_digest(secret.encode(), expected.encode()):
            return _error(
                401, "Missing or wrong hook secret: send `Authorization: Bearer <BROKER_HOOK_SECRET>`."
            )
        if request.method == "POST":
            try:
                request.json = json.loads(request.body or b"null")  # type: ignore[attr-defined]
            except RequestDataTooBig:
                return _error(413, "Request body too large.")
            except (ValueError, UnicodeDecodeError):
                return _error(400, "The body must be JSON (UTF-8).")
            except RecursionError:
                return _error(400, f"The body is nested too deeply (at most {MAX_DEPTH} levels).")
            if _too_deep(request.json):
                return _error(400, f"The body is nested too deeply (at most {MAX_DEPTH} levels).")
        return view(request, *args, **kwargs)

    return wrapped


@require_POST
@hook
def authn_view(request: HttpRequest) -> JsonResponse:
    if not isinstance(request.json, dict):
        return _error(400, "The body must be a JSON object with username and password.")
    return JsonResponse(authn.authenticate(authn.Attempt.from_payload(request.json)))


@require_POST
@hook
def authz_view(request: HttpRequest) -> JsonResponse:
    if not isinstance(request.json, dict):
        return _error(400, "The body must be a JSON object with username, topic and action.")
    return JsonResponse(authn.authorize(request.json))


@require_POST
@hook
def events_view(request: HttpRequest) -> JsonResponse:
    batch = request.json if isinstance(request.json, list) else [request.json]
    try:
        counts = events.ingest(batch)
    except events.BadEvent as error:
        return _error(422, str(error))
    return JsonResponse(counts)


@require_GET
@hook
def revocations_view(request: HttpRequest) -> JsonResponse:
    """What to act on after ``after`` (a cursor). Without one: the current cursor, so a
    broker that starts up acts only on what happens from then on."""
    after = request.GET.get("after")
    if after is None or after == "":
        return JsonResponse({"cursor": revocations.latest_cursor(), "revocations": []})
    try:
        cursor = int(after)
    except ValueError:
        return _error(400, "after must be a cursor (an integer) from a previous answer.")
    rows = revocations.feed_after(cursor, FEED_LIMIT)
    return JsonResponse(
        {
            "cursor": rows[-1].id if rows else cursor,
            "revocations": [
                {
                    "id": r.id,
                    "kind": r.kind,
                    "org": r.org_id,
                    "username": r.username,
                    "token_id": r.token_id,
                    "client_id": r.client_id,
                    "reason": r.reason,
                    "at": r.created_at.isoformat(),
                }
                for r in rows
            ],
        }
    )


class BrokerHookMiddleware:
    """Serve /broker/v1/* straight away, ahead of the dashboard's session, CSRF, auth,
    message and tenancy middleware: the broker sends a bearer secret, never a cookie, and
    it calls authn on every CONNECT of a reconnect storm, so each skipped layer counts.
    Placed after SecurityMiddleware and the NUL check, which still apply."""

    def __init__(self, get_response):
        from .urls import MOUNT, urlpatterns  # the routes are declared once, in broker/urls.py

        self.get_response = get_response
        self.prefix = f"/{MOUNT}"
        self.hooks = {str(p.pattern): p.callback for p in urlpatterns}

    def __call__(self, request: HttpRequest):
        if request.path_info.startswith(self.prefix):
            view = self.hooks.get(request.path_info[len(self.prefix) :])
            if view is not None:
                return view(request)
        return self.get_response(request)
