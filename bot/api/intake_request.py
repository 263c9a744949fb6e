"""What every intake request goes through before its endpoint: credentials, replay, body, resend.

In order: a bearer token or an HMAC signature (a signature seen before is a replay: 401); for
POSTs, ``Content-Type: application/json`` (415); the ``Idempotency-Key`` (a retry of the same
request gets the first answer back without anything being done again; the key with another
request is 422); then the strict JSON parse (``bot.api.body``). Only a 2xx answer is kept for
an Idempotency-Key; after any other the key is free again, so a corrected retry can use it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from bot.api.auth import SIGNATURE_WINDOW, bearer_ok, signature_ok
from bot.api.body import BodyError, Path, check_content_type, parse
from bot.keys import SERVICES, SETTINGS
from handlers.intake import resend
from handlers.intake.resend import Answer
from scoring.agreement_check import format_path

Endpoint = Callable[[Any], Awaitable[Answer]]


@dataclass(frozen=True)
class Credentials:
    signature: str | None  # the HMAC signature the request carried, when it was signed


def answer(status: int, error: str, problems: list[dict[str, str]] | None = None) -> Answer:
    body: dict[str, Any] = {"error": error}
    if problems:
        body["problems"] = problems
    return Answer(status, body)


def _refuse(status: int, error: str) -> web.HTTPException:
    kind = {
        401: web.HTTPUnauthorized,
        400: web.HTTPBadRequest,
        409: web.HTTPConflict,
        415: web.HTTPUnsupportedMediaType,
        422: web.HTTPUnprocessableEntity,
    }[status]
    return kind(text=json.dumps({"error": error}), content_type="application/json")


async def authenticate(request: web.Request, body: bytes) -> Credentials:
    """A bearer token, or a signature not seen before; raises 401 naming what is wrong."""
    settings, services = request.app[SETTINGS], request.app[SERVICES]
    if bearer_ok(request.headers.get("Authorization"), settings.intake_token):
        return Credentials(None)
    timestamp, signature = request.headers.get("X-Baton-Timestamp"), request.headers.get("X-Baton-Signature")
    now = services.clock.now()
    if (
        signature
        and timestamp
        and signature_ok(settings.intake_hmac_secret, timestamp, signature, body, now=now.timestamp())
    ):
        # Remembered until its timestamp leaves the window, after which it is refused anyway.
        until = datetime.fromtimestamp(int(timestamp), UTC) + timedelta(seconds=SIGNATURE_WINDOW)
        if not await resend.first_use(services, signature, until):
            raise _refuse(
                401,
                "this signed request was received before (a replay); sign every request "
                "anew, with a fresh X-Baton-Timestamp",
            )
        return Credentials(signature)
    raise _refuse(
        401,
        "missing or wrong credentials: send Authorization: Bearer <BATON_INTAKE_TOKEN>, "
        "or a valid X-Baton-Signature made within 5 minutes of X-Baton-Timestamp",
    )


def _idempotency_key(request: web.Request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not 1 <= len(key) <= 200 or not all("!" <= c <= "~" for c in key):
        raise _refuse(400, "Idempotency-Key must be 1 to 200 visible ASCII characters (no spaces)")
    return key


async def handle_post(request: web.Request, prefix: Callable[[Any], Path], endpoint: Endpoint) -> web.Response:
    """Run ``endpoint`` on the parsed body of a POST; ``prefix(root)`` places parse problems."""
    body = await request.read()  # bounded by the app's client_max_size
    credentials = await authenticate(request, body)
    try:
        result, replayed = await _post(request, body, prefix, endpoint)
    except web.HTTPException:
        raise  # refused: a signature stays used
    except BaseException:
        await _failed(request, credentials)
        raise
    if result.status >= 500:
        await _failed(request, credentials)
    response = web.json_response(result.body, status=result.status)
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


async def _failed(request: web.Request, credentials: Credentials) -> None:
    # Baton failed the request: its sender may send it again exactly as it was.
    if credentials.signature is not None:
        await resend.forget_signature(request.app[SERVICES], credentials.signature)


async def _post(
    request: web.Request, body: bytes, prefix: Callable[[Any], Path], endpoint: Endpoint
) -> tuple[Answer, bool]:
    services, settings = request.app[SERVICES], request.app[SETTINGS]
    try:
        check_content_type(request.content_type, request.charset)
    except BodyError as exc:
        raise _refuse(exc.status, exc.error) from None
    key = _idempotency_key(request)
    if key is None:
        return await _parse_and_run(body, prefix, endpoint), False
    fingerprint = hashlib.sha256(f"{request.method} {request.path}\n".encode() + body).hexdigest()
    try:
        stored = await resend.claim_key(services, key, fingerprint, timedelta(hours=settings.idempotency_hours))
    except resend.KeyReused:
        raise _refuse(
            422, "this Idempotency-Key was already used for a different request; use a new key for a new request"
        ) from None
    except resend.KeyInProgress:
        raise _refuse(
            409, "the first request with this Idempotency-Key is still being processed; retry in a moment"
        ) from None
    if stored is not None:
        return stored, True
    kept = False
    try:
        result = await _parse_and_run(body, prefix, endpoint)
        if 200 <= result.status < 300:
            await resend.keep_answer(services, key, result)
            kept = True
    finally:
        if not kept:
            await resend.release_key(services, key)
    return result, False


async def _parse_and_run(body: bytes, prefix: Callable[[Any], Path], endpoint: Endpoint) -> Answer:
    try:
        data = parse(body)
    except BodyError as exc:
        problems = [
            {"field": format_path(prefix(exc.root) + path), "message": message} for path, message in exc.problems
        ]
        return answer(exc.status, exc.error, problems)
    return await endpoint(data)
