"""Machine credentials: generation, digests and verification, in one place (DESIGN §5).

MQTT secrets, temporary tokens and API keys are random (256 bits), so a fast keyed digest
is as strong as a slow hash and keeps a reconnect storm cheap: each is stored as
HMAC-SHA256 keyed by ``SECRETS_PEPPER`` and compared in constant time. Tokens and API keys
carry an id (``cst_<id>_<secret>``, ``sk_<id>_<secret>``) so verification is one indexed
lookup. Nothing here logs or stores a secret in clear.

Django-free (the pepper is passed in or read lazily), so the broker plugin can import it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
ID_LENGTH = 16  # 80 bits: ids are not secret, but must not collide or be enumerable
SECRET_BYTES = 32  # 256 bits
_SECRET_RE = r"[A-Za-z0-9_-]{43}"  # token_urlsafe(32)


def new_id(length: int = ID_LENGTH) -> str:
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(length))


def new_secret() -> str:
    """A URL-safe random secret of 256 bits (43 characters)."""
    return secrets.token_urlsafe(SECRET_BYTES)


def _pepper() -> bytes:
    from django.conf import settings

    return settings.SECRETS_PEPPER.encode()


def digest(secret: str, pepper: bytes | None = None) -> str:
    """The stored form of a secret: hex HMAC-SHA256 keyed by the server pepper."""
    return hmac.new(pepper or _pepper(), secret.encode(), hashlib.sha256).hexdigest()


def verify(secret: str, stored_digest: str | None, pepper: bytes | None = None) -> bool:
    """Constant-time check of ``secret`` against a stored digest (False when none)."""
    if not stored_digest:
        return False
    return hmac.compare_digest(digest(secret, pepper), stored_digest)


@dataclass(frozen=True)
class Prefixed:
    """A credential of the form ``<prefix>_<id>_<secret>``."""

    prefix: str
    id: str
    secret: str

    def __str__(self) -> str:
        return f"{self.prefix}_{self.id}_{self.secret}"

    @property
    def display_prefix(self) -> str:
        """What lists may show: enough to recognise the credential, nothing to use it."""
        return f"{self.prefix}_{self.id}"


def new_prefixed(prefix: str) -> Prefixed:
    return Prefixed(prefix, new_id(), new_secret())


def parse_prefixed(value: str, prefix: str) -> Prefixed | None:
    """Split ``<prefix>_<id>_<secret>``; None for anything else (no exception to leak)."""
    match = re.fullmatch(rf"{re.escape(prefix)}_([a-z2-7]{{{ID_LENGTH}}})_({_SECRET_RE})", value or "")
    return Prefixed(prefix, match.group(1), match.group(2)) if match else None


TOKEN_PREFIX = "cst"
API_KEY_PREFIX = "sk"
