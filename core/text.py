"""The one rule for control characters in what people and programs send us.

No name, id, filter or comment of ours holds a control character: U+0000 cannot even be
stored in PostgreSQL text, and the others forge lines in logs, exports and pages. Text that
may span lines (a description, a comment) keeps tab, line feed and carriage return.
"""

from __future__ import annotations

import re

# C0, DEL and C1 (the broker refuses the same in client ids and usernames).
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_EXCEPT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def control_character(value: str, *, multiline: bool = False) -> str | None:
    """The first control character of ``value`` as U+XXXX, or None when it has none."""
    match = (_EXCEPT_LINES if multiline else CONTROL).search(value)
    return f"U+{ord(match.group(0)):04X}" if match else None


def shown(value: str) -> str:
    """``value`` with its control characters written as ``\\xNN``: what the audit keeps of a
    refused client id or a denied topic."""
    return CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", value)


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """ "1 token", "3 tokens": a count with its noun as a person writes it."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def duration_words(seconds: int) -> str:
    """A whole number of seconds as a person says it: "90 seconds", "15 minutes", "1 hour",
    "1 hour 30 minutes", "2 days"."""
    seconds = int(seconds)
    parts = []
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count, seconds = divmod(seconds, size)
            parts.append(counted(count, unit))
    if seconds or not parts:
        parts.append(counted(seconds, "second"))
    return " ".join(parts[:2])
