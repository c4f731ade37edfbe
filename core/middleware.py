"""Request checks every URL shares."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote

from django.http import HttpRequest, HttpResponse, JsonResponse

from .text import control_character

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _message(where: str, character: str) -> str:
    return f"The {where} contains a control character ({character}), which no field accepts."


class RejectControlCharactersMiddleware:
    """Answer 400 to a path, query string or form field carrying a control character
    (``core.text``; form fields may hold line breaks), before any view.

    A NUL reaching a query would fail in PostgreSQL (a 500), and the others would reach the
    audit log and its exports; JSON bodies are checked by their schemas (the API) and by the
    broker contract (the hooks).
    """

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = self._problem(request)
        if problem is None:
            return self.get_response(request)
        if request.path.startswith(("/api/", "/broker/")):
            return JsonResponse({"detail": problem}, status=400)
        return HttpResponse(problem, status=400, content_type="text/plain; charset=utf-8")

    @staticmethod
    def _problem(request: HttpRequest) -> str | None:
        for where, raw in (("path", request.path), ("query string", request.META.get("QUERY_STRING", ""))):
            character = control_character(raw) or control_character(unquote(raw))
            if character:
                return _message(where, character)
        if request.method == "POST" and request.content_type in FORM_TYPES:
            for name, values in request.POST.lists():
                for text in (name, *values):
                    character = control_character(text, multiline=True)
                    if character:
                        return _message(f"form field {name!r}", character)
        return None
