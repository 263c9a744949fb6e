"""How each source proves a request is its own: a bearer token, Baton's HMAC, HubSpot's v3 signature.

Salesforce's Outbound Messages carry no signature; their organisation id is in the SOAP body and
is checked where the message is parsed (``bot.api.sources``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

from bot.api.auth import bearer_ok, signature_ok

HUBSPOT_WINDOW_MS = 5 * 60 * 1000  # HubSpot: reject the request if the timestamp is older than 5 minutes
# HubSpot signs the URI with these characters decoded (its request-validation guide lists them).
_HUBSPOT_DECODED = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}


def hubspot_uri(uri: str) -> str:
    for encoded, plain in _HUBSPOT_DECODED.items():
        uri = uri.replace(encoded, plain).replace(encoded.lower(), plain)
    return uri


def hubspot_sign(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """Base64 of HMAC-SHA256(secret, method + URI + body + timestamp), as ``X-HubSpot-Signature-v3``."""
    message = f"{method}{hubspot_uri(uri)}".encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def hubspot_ok(secret: str, method: str, uri: str, body: bytes, headers: Mapping[str, str], now_ms: int) -> bool:
    signature, timestamp = headers.get("X-HubSpot-Signature-v3"), headers.get("X-HubSpot-Request-Timestamp")
    if not signature or not timestamp or not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 16:
        return False
    if abs(now_ms - int(timestamp)) > HUBSPOT_WINDOW_MS:
        return False
    expected = hubspot_sign(secret, method, uri, body, timestamp)
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


def baton_ok(secret: str, headers: Mapping[str, str], body: bytes, now: float) -> bool:
    return signature_ok(secret, headers.get("X-Baton-Timestamp"), headers.get("X-Baton-Signature"), body, now=now)


def token_ok(secret: str, headers: Mapping[str, str]) -> bool:
    return bearer_ok(headers.get("Authorization"), secret)


def salesforce_org_ok(expected: str, sent: str | None) -> bool:
    """Salesforce sends the 18-character id; the 15-character form is its case-sensitive prefix."""
    if not sent:
        return False
    return hmac.compare_digest(sent[:15].encode("utf-8", "replace"), expected[:15].encode())
