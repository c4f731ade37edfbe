"""``{% load durations %}{{ seconds|duration }}``: lifetimes in words on the pages."""

from __future__ import annotations

from django import template

from core.text import duration_words

register = template.Library()


@register.filter
def duration(seconds) -> str:
    try:
        return duration_words(int(seconds))
    except (TypeError, ValueError):
        return ""
