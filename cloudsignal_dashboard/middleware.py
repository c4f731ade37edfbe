"""Request checks every URL shares."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote

from django.http import HttpRequest, HttpResponse, JsonResponse

NUL_MESSAGE = "The request contains a NUL character (%00), which no field accepts."


class RejectNulMiddleware:
    """Answer 400 to a path or query string carrying U+0000.

    PostgreSQL text cannot hold NUL, so such a value reaching a query would fail there
    (a 500); no name, id or filter of ours may contain one, so refuse it up front.
    """

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raw = request.path + "?" + request.META.get("QUERY_STRING", "")
        if "\x00" in raw or "\x00" in unquote(raw):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": NUL_MESSAGE}, status=400)
            return HttpResponse(NUL_MESSAGE, status=400, content_type="text/plain")
        return self.get_response(request)
