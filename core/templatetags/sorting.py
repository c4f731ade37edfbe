"""``{% sort_header "Last seen" "last_seen" %}``: a list's column heading that sorts by it.

The view puts its ``orders`` (``core.keyset.Order`` by name) and ``default_sort`` in the
context. The link keeps the filters, starts from the first page, and a second click on
the column sorts it the other way; ``aria-sort`` says how the list is sorted now.
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html

register = template.Library()
CURSORS = ("after", "before")


@register.simple_tag(takes_context=True)
def sort_header(context, label: str, key: str, css: str = "") -> str:
    request = context["request"]
    orders, default = context["orders"], context["default_sort"]
    current = request.GET.get("sort") or default
    active = current.removeprefix("-") == key
    order = orders[key].reversed() if active and current.startswith("-") else orders[key]
    params = request.GET.copy()
    for name in (*CURSORS, "sort"):
        params.pop(name, None)
    if active:  # the next click turns it round
        params["sort"] = key if current.startswith("-") else f"-{key}"
    elif key != default:
        params["sort"] = key
    state = ("descending" if order.descending else "ascending") if active else "none"
    arrow = ("▼" if order.descending else "▲") if active else ""
    return format_html(
        '<th{} aria-sort="{}"><a class="sort-link" href="?{}">{}<span aria-hidden="true"> {}</span></a></th>',
        format_html(' class="{}"', css) if css else "",
        state,
        params.urlencode(),
        label,
        arrow,
    )
