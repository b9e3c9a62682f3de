"""Secrets the gateway checks: admin API tokens (stored hashed) and HMAC-signed webhooks.

Pure functions; every comparison of a secret is constant-time (`hmac.compare_digest`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

TOKEN_PREFIX = "lpr"  # noqa: S105 (a public prefix, not a secret)
_TOKEN = re.compile(rf"^{TOKEN_PREFIX}_([0-9a-f]{{12}})_([0-9a-f]{{48}})$")

SIGNATURE_HEADER = "X-Lapor-Signature"
TIMESTAMP_HEADER = "X-Lapor-Timestamp"


def new_token() -> tuple[str, str, str]:
    """A fresh admin token: (token to hand out once, public key id, hash to store).

    The key id finds the row; the secret part is only ever stored as its SHA-256."""
    key_id, secret = secrets.token_hex(6), secrets.token_hex(24)
    return f"{TOKEN_PREFIX}_{key_id}_{secret}", key_id, hash_secret(secret)


def hash_secret(secret: str) -> str:
    """SHA-256 hex of a token's secret part (high-entropy, so no slow KDF is needed)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def split_token(token: str) -> tuple[str, str] | None:
    """(key id, secret) of a well-formed token, else None."""
    match = _TOKEN.match(token or "")
    return (match.group(1), match.group(2)) if match else None


def secret_matches(secret: str, stored_hash: str) -> bool:
    """Constant-time check of a presented secret against the stored hash."""
    return hmac.compare_digest(hash_secret(secret).encode(), stored_hash.encode())


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>." + body): the value of
    X-Lapor-Signature. The timestamp is inside the MAC, so it cannot be changed to replay
    an old body."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify_signature(
    secret: str,
    timestamp_header: str | None,
    signature_header: str | None,
    body: bytes,
    now: float,
    window: int,
) -> str | None:
    """None when the signature is good and fresh, else the reason it is refused."""
    if not timestamp_header or not signature_header:
        return "missing signature headers"
    if not timestamp_header.isdigit() or len(timestamp_header) > 12:
        return "bad timestamp"
    timestamp = int(timestamp_header)
    if abs(now - timestamp) > window:
        return "timestamp outside the allowed window"
    expected = sign(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), signature_header.strip().encode("utf-8", "replace")):
        return "bad signature"
    return None
