"""Intake API authentication: a bearer token, or an HMAC-SHA256 signature over the body."""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_WINDOW = 300  # seconds either side of the clock a signed request's timestamp may be


def bearer_ok(header: str | None, token: str | None) -> bool:
    if not token or not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header.removeprefix("Bearer ").strip().encode(), token.encode())


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signature_ok(
    secret: str | None,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: float | None = None,
    tolerance: int = SIGNATURE_WINDOW,
) -> bool:
    """``X-Baton-Signature: sha256=<hex of HMAC(secret, "<timestamp>." + body)>``, within 5 minutes."""
    # ASCII digits only: str.isdigit() also takes digits int() cannot read ("²").
    if not secret or not timestamp or not signature or not (timestamp.isascii() and timestamp.isdigit()):
        return False
    if len(timestamp) > 12 or abs((now if now is not None else time.time()) - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body).encode(), signature.encode("utf-8", "replace"))
