"""The one implementation of machine credentials: formats, digests, constant-time checks."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from core import credentials

PEPPER = b"test-pepper"


def test_secrets_are_256_bit_url_safe_and_unique():
    values = {credentials.new_secret() for _ in range(500)}
    assert len(values) == 500
    assert all(len(v) == 43 and v.replace("-", "").replace("_", "").isalnum() for v in values)


def test_the_digest_is_hmac_sha256_keyed_by_the_pepper():
    expected = hmac.new(PEPPER, b"s3cret", hashlib.sha256).hexdigest()
    assert credentials.digest("s3cret", PEPPER) == expected
    assert credentials.digest("s3cret", b"other pepper") != expected


def test_verify_accepts_only_the_exact_secret():
    stored = credentials.digest("s3cret", PEPPER)
    assert credentials.verify("s3cret", stored, PEPPER)
    for wrong in ("s3cre", "s3cret ", "S3cret", ""):
        assert not credentials.verify(wrong, stored, PEPPER)
    assert not credentials.verify("s3cret", "", PEPPER)
    assert not credentials.verify("s3cret", None, PEPPER)


def test_verify_uses_the_settings_pepper_by_default(settings):
    settings.SECRETS_PEPPER = "from-settings"
    assert credentials.digest("x") == credentials.digest("x", b"from-settings")


def test_prefixed_credentials_round_trip():
    value = credentials.new_prefixed("cst")
    text = str(value)
    assert text.startswith(f"cst_{value.id}_") and len(value.id) == 16
    assert credentials.parse_prefixed(text, "cst") == value
    assert value.display_prefix == f"cst_{value.id}"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "cst_",
        "sk_abcdefghijklmnop_" + "a" * 43,
        "cst_ABCDEFGHIJKLMNOP_" + "a" * 43,
        "cst_abcdefghijklmnop_" + "a" * 42,
        "cst_abcdefghijklmnop_" + "a" * 43 + "\n",
        "cst_abcdefghijklmnop_" + "é" * 43,
    ],
)
def test_anything_else_does_not_parse(text):
    assert credentials.parse_prefixed(text, "cst") is None
