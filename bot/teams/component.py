"""The Teams component: ``POST /api/messages`` through botbuilder's ``CloudAdapter``, and the sender.

With an app id every request must carry a Bot Framework JWT. Without one, local
unauthenticated mode, allowed only on loopback (``adapter.check_settings``).

Every answer to a refused request is JSON ``{"error": ...}``, logged as one line, and
nothing runs: 401 for a missing, malformed, forged, expired or otherwise invalid token;
415 for another content type; 400 for a body that is not an activity or has no usable
``serviceUrl`` (checked before any outbound call); 403 for a tenant Baton does not serve
(``gate.allowed_tenants``); 503 when Microsoft's signing keys cannot be fetched in time
(``keys.KeySource``, off the event loop and bounded by a timeout).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiohttp import web
from azure.core.exceptions import DeserializationError  # what msrest raises for malformed models
from botbuilder.core import serializer_helper
from botbuilder.schema import Activity

from bot.logs import log_failure
from bot.settings import Settings
from bot.teams.adapter import authenticated, build_adapter
from bot.teams.app import BatonTeamsBot
from bot.teams.gate import (
    allowed_tenants,
    envelope_problem,
    invoke_problem,
    pacing_tenant,
    service_url_problem,
    tenant_ids,
    tenant_refusal,
)
from bot.teams.keys import KeySource, KeysUnavailable
from bot.teams.sender import TeamsSender
from handlers.services import Services

log = logging.getLogger(__name__)
ROUTE = "/api/messages"


def _problem(status: int, error: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": error}, status=status, headers=headers)


def _refused(status: int, error: str, detail: str | None = None) -> web.Response:
    log.info("Teams: refused a request with %d: %s", status, detail or error)
    return _problem(status, error)


def _bearer_shape(header: str) -> bool:
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and token.count(".") == 2


def _token_failure(exc: Exception) -> str:
    """The token's problem in a few words for the log (never the token itself)."""
    return f"{type(exc).__name__}: {str(exc)[:160]}" if str(exc) else type(exc).__name__


class TeamsComponent:
    """Plugged into the runtime when ``settings.teams_enabled``."""

    name = "teams"

    def __init__(self, settings: Settings, services: Services, keys: KeySource | None = None) -> None:
        self.settings = settings
        self.adapter = build_adapter(settings)  # raises ConfigError on unusable settings
        self.bot = BatonTeamsBot(services, welcome=settings.welcome)
        self.sender = TeamsSender(
            services, self.adapter, settings.microsoft_app_id or "", tenant_id=pacing_tenant(settings)
        )
        self.auth = authenticated(settings)
        self.tenants = allowed_tenants(settings)
        self.keys = keys or KeySource()
        self.keys.install()
        self._warming: asyncio.Task[None] | None = None

    def mount(self, app: web.Application) -> None:
        app.router.add_post(ROUTE, self.messages)

    async def messages(self, request: web.Request) -> web.StreamResponse:
        header = request.headers.get("Authorization", "")
        if self.auth and not _bearer_shape(header):
            return _refused(401, "a Bot Framework token is required (Authorization: Bearer …)")
        if "application/json" not in request.headers.get("Content-Type", ""):
            return _refused(415, "send the activity as application/json")
        try:
            body = json.loads(await request.read())
        except (ValueError, RecursionError):
            return _refused(400, "the body is not valid JSON")
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            return _refused(400, "the body is not a Bot Framework activity (no `type`)")
        if problem := service_url_problem(body) or envelope_problem(body) or invoke_problem(body):
            return _refused(400, problem)
        ids, problem = tenant_ids(body)
        if problem:
            return _refused(400, problem)
        try:
            activity = Activity().deserialize(body)
        except (DeserializationError, TypeError, ValueError, AttributeError):
            return _refused(400, "the body is not a Bot Framework activity (a field has the wrong type)")
        try:
            authenticated = await self.adapter.bot_framework_authentication.authenticate_request(activity, header)
        except KeysUnavailable as exc:
            log.warning("Teams: answered 503: %s", exc)
            return _problem(
                503, "the Bot Framework token cannot be checked right now; retry later", headers={"Retry-After": "10"}
            )
        except Exception as exc:  # whatever botbuilder or PyJWT raises for a bad token is a 401
            return _refused(401, "the Bot Framework token is not valid", _token_failure(exc))
        if refusal := tenant_refusal(self.tenants, ids):
            return _refused(403, refusal)
        return await self._turn(authenticated, activity)

    async def _turn(self, authenticated: Any, activity: Activity) -> web.Response:
        try:
            # What CloudAdapter.process does, minus its msrest serialisation of the invoke body:
            # Baton's invoke answers are plain JSON (Universal Actions responses).
            invoke = await self.adapter.process_activity(authenticated, activity, self.bot.on_turn)
        except Exception as exc:  # one line for the operator; the traceback only at debug level
            log_failure(log, f"Teams: the {activity.type} activity failed", exc, logging.ERROR)
            return _problem(500, "internal error; the activity was not applied")
        if invoke is None:
            return web.Response(status=201)
        answer = (
            invoke.body
            if isinstance(invoke.body, dict | list) or invoke.body is None
            else serializer_helper(invoke.body)
        )
        return web.json_response(answer, status=invoke.status)

    async def start(self) -> None:
        log.info(
            "Teams: %s",
            "authenticated (app id set)"
            if self.auth
            else "local unauthenticated mode for the Bot Framework Emulator (loopback only)",
        )
        if self.auth:
            # In the background: start-up does not wait on Microsoft, the first request might.
            self._warming = asyncio.create_task(self.keys.warm())

    async def stop(self) -> None:
        if self._warming is not None:
            self._warming.cancel()
            self._warming = None
        self.keys.uninstall()

    async def ready(self) -> str:
        return "ok"
