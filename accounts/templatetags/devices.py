"""A browser's User-Agent in words ("Firefox 140 on Linux"), for the signed-in devices page:
a person recognises a device by its browser and system, not by a 130-character header."""

from __future__ import annotations

from functools import lru_cache

from django import template
from ua_parser import parse

register = template.Library()


@register.filter
@lru_cache(maxsize=256)
def device(user_agent: str) -> str:
    if not user_agent:
        return "Unknown device"
    parsed = parse(user_agent)
    browser = parsed.user_agent
    if browser and browser.family != "Other":
        words = f"{browser.family} {browser.major}" if browser.major else browser.family
    else:
        words = "Unknown browser"
    if parsed.os and parsed.os.family != "Other":
        words += f" on {parsed.os.family}"
    if parsed.device and parsed.device.family not in ("Other", "Mac", "Spider"):
        words += f" ({parsed.device.family})"
    return words
