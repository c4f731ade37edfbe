"""Secrets the dashboard must use again, not only check (an IdP's client secret): sealed with
Fernet under a key derived from ``SECRETS_PEPPER``, so a database dump alone does not reveal
them. Anything that only needs checking is a digest instead (core.credentials)."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


def _fernet(purpose: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
        settings.SECRETS_PEPPER.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: str, purpose: str) -> str:
    return _fernet(purpose).encrypt(secret.encode()).decode()


def unseal(sealed: str, purpose: str) -> str:
    """The secret; ValueError when it was sealed under another pepper or purpose."""
    try:
        return _fernet(purpose).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise ValueError("This secret was sealed with another key; enter it again.") from None
