"""Appending to the revocation feed; call inside the transaction of the change."""

from __future__ import annotations

from .models import Revocation, RevocationKind


def emit_disconnect(
    *, org, username: str, reason: str, token_id: str = "", client_id: str = ""
) -> Revocation:
    """Ask the broker to drop the live sessions of ``username`` (or of one token, or one client)."""
    return Revocation.objects.create(
        org=org,
        kind=RevocationKind.DISCONNECT,
        username=username,
        token_id=token_id,
        client_id=client_id,
        reason=reason,
    )


def emit_refresh(*, org, username: str, reason: str) -> Revocation:
    """Ask the broker to re-fetch the ACL of ``username``'s live sessions."""
    return Revocation.objects.create(org=org, kind=RevocationKind.REFRESH, username=username, reason=reason)


def latest_cursor() -> int:
    """The id of the newest instruction (0 when there is none)."""
    return Revocation.objects.order_by("-id").values_list("id", flat=True).first() or 0


def feed_after(cursor: int, limit: int) -> list[Revocation]:
    """The instructions after ``cursor``, oldest first, at most ``limit`` of them."""
    return list(Revocation.objects.filter(id__gt=cursor).order_by("id")[:limit])
