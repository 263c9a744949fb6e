"""JSON errors for the HTTP API: every 4xx names what is wrong; nothing leaks a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from bot.keys import MAX_BODY
from scoring.agreement_check import format_path
from scoring.lead import email_problem

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def problem(status: int, error: str, problems: list[dict[str, str]] | None = None) -> web.Response:
    body: dict[str, Any] = {"error": error}
    if problems:
        body["problems"] = problems
    return web.json_response(body, status=status)


def validation_problems(exc: ValidationError, prefix: tuple[int | str, ...] = ()) -> list[dict[str, str]]:
    out = []
    for error in exc.errors():
        loc = prefix + tuple(error["loc"])
        message = {"extra_forbidden": "unknown field", "missing": "required"}.get(error["type"], error["msg"])
        if "email address" in message:
            message = email_problem(message)
        out.append({"field": format_path(loc), "message": message.removeprefix("Value error, ")})
    return out


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn aiohttp's HTML error pages and unexpected exceptions into JSON on /api routes."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if not request.path.startswith("/api/") or exc.content_type == "application/json":
            raise
        if exc.status == 413:
            return problem(413, f"request body is larger than the {request.app[MAX_BODY]:,}-byte limit")
        if exc.status < 400:
            raise
        return problem(exc.status, exc.reason)
    except Exception:
        if not request.path.startswith("/api/"):
            raise
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem(500, "internal error; the request was not applied")
