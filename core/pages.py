"""Rendering helpers every page shares."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers


def render_page(request: HttpRequest, template: str, context: dict, *, status: int = 200) -> HttpResponse:
    """The whole page, or only its ``page`` fragment for an htmx request (swapped into <main>)."""
    name = f"{template}#page" if getattr(request, "htmx", False) else template
    return render(request, name, context, status=status)


def render_secret(request: HttpRequest, template: str, context: dict, *, push_url: str) -> HttpResponse:
    """A page revealing a secret once: never cached, and for htmx the address bar moves on to
    ``push_url``, so a reload shows the page without the secret."""
    response = render_page(request, template, context)
    add_never_cache_headers(response)
    if getattr(request, "htmx", False):
        response["HX-Push-Url"] = push_url
    return response
