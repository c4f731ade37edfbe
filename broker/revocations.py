"""Appending to the revocation feed; call inside the transaction of the change."""

from __future__ import annotations

from .models import Revocation, RevocationKind


def emit_disconnect(*, org, username: str, reason: str, token_id: str = "") -> Revocation:
    """Ask the broker to drop the live sessions of ``username`` (or of one token only)."""
    return Revocation.objects.create(
        org=org, kind=RevocationKind.DISCONNECT, username=username, token_id=token_id, reason=reason
    )


def emit_refresh(*, org, username: str, reason: str) -> Revocation:
    """Ask the broker to re-fetch the ACL of ``username``'s live sessions."""
    return Revocation.objects.create(org=org, kind=RevocationKind.REFRESH, username=username, reason=reason)
