"""Test helper: the token a password presents to a CONNECT, as broker.authn checks it."""

from __future__ import annotations

from core import credentials
from users import connect


def presented_token(user, value: str) -> connect.LoadedToken | None:
    """The user's token that ``value`` is, if its secret matches; None otherwise."""
    parsed = credentials.parse_prefixed(value, credentials.TOKEN_PREFIX)
    if parsed is None:
        return None
    token = connect.load(user.org_id, user.name, parsed.id).token
    return token if token is not None and token.matches(parsed) else None
