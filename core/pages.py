"""Rendering helpers every page shares."""

from __future__ import annotations

import html

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.context import make_context
from django.template.loader import get_template
from django.template.loader_tags import BlockNode
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html

from .filters import BadFilter


def render_page(request: HttpRequest, template: str, context: dict, *, status: int = 200) -> HttpResponse:
    """The whole page, or only its ``page`` fragment for an htmx request (swapped into <main>),
    then with the page's <title>, which htmx puts in the tab: the page names itself either way."""
    if not getattr(request, "htmx", False):
        return render(request, template, context, status=status)
    response = render(request, f"{template}#page", context, status=status)
    response.write(format_html("<title>{}</title>", page_title(request, template, context)))
    return response


def page_title(request: HttpRequest, template: str, context: dict) -> str:
    """What base.html's <title> says for ``template``: its ``title`` block, then the org."""
    compiled = get_template(template).template
    block = next((b for b in compiled.nodelist.get_nodes_by_type(BlockNode) if b.name == "title"), None)
    bound = make_context(context, request)
    with bound.bind_template(compiled):
        own = block.nodelist.render(bound) if block else ""
        org = bound.get("org")
    return html.unescape(f"{own}{org.name + ' · ' if org else ''}CloudSignal")


def render_secret(request: HttpRequest, template: str, context: dict, *, push_url: str) -> HttpResponse:
    """A page revealing a secret once: never cached, and for htmx the address bar moves on to
    ``push_url``, so a reload shows the page without the secret."""
    response = render_page(request, template, context)
    add_never_cache_headers(response)
    if getattr(request, "htmx", False):
        response["HX-Push-Url"] = push_url
    return response


def filtered_page(request: HttpRequest, qs, filter_rows, page, cursor_param: str) -> dict:
    """A list page's common part: filters from the query string, one keyset page, a
    filter error to show (the page answers 400), and the query to build page links from."""
    error, rows, next_cursor = None, [], None
    try:
        rows, next_cursor = page(filter_rows(qs, request.GET), request.GET.get(cursor_param))
    except BadFilter as bad:
        error = str(bad)
    params = request.GET.copy()
    params.pop(cursor_param, None)
    return {
        "rows": rows,
        "next_cursor": next_cursor,
        "cursor_param": cursor_param,
        "first_page": not request.GET.get(cursor_param),
        "query": params.urlencode(),
        "filters": request.GET,
        "filter_error": error,
    }


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A refused form (its CSRF token is missing or stale: the page was open across a new
    sign-in, or cookies were cleared): the 403 page with a sentence that says what to do.
    Django's own page carries inline style, which the Content-Security-Policy refuses."""
    message = "This page is out of date (its form token is no longer valid). Reload it and try again."
    return render(request, "403.html", {"exception": message}, status=403)


def back_within_org(request: HttpRequest, org_id: str, default: str) -> str:
    """Where an action posted from a list returns: the list as it was (its filters and
    page, from the form's ``next``), but only a page of this org; else ``default``."""
    back = request.POST.get("next", "")
    if back.startswith(f"/o/{org_id}/") and "//" not in back and "\\" not in back:
        return back
    return default
