"""The Teams component: ``POST /api/messages`` through botbuilder's ``CloudAdapter``, and the sender.

With an app id every request must carry a Bot Framework JWT (checked by the adapter; a
missing or malformed ``Authorization`` header is refused here with 401 before any work).
Without one, local unauthenticated mode, allowed only on loopback (``adapter.check_settings``).
"""

from __future__ import annotations

import json
import logging

from aiohttp import web
from azure.core.exceptions import DeserializationError  # what msrest raises for malformed models
from botbuilder.core import serializer_helper
from botbuilder.schema import Activity

from bot.settings import Settings
from bot.teams.adapter import authenticated, build_adapter
from bot.teams.app import BatonTeamsBot
from bot.teams.sender import TeamsSender
from handlers.services import Services

log = logging.getLogger(__name__)
ROUTE = "/api/messages"


def _problem(status: int, error: str) -> web.Response:
    return web.json_response({"error": error}, status=status)


def _bearer_shape(header: str) -> bool:
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and token.count(".") == 2


class TeamsComponent:
    """Plugged into the runtime when ``settings.teams_enabled``."""

    name = "teams"

    def __init__(self, settings: Settings, services: Services) -> None:
        self.settings = settings
        self.adapter = build_adapter(settings)  # raises ConfigError on unusable settings
        self.bot = BatonTeamsBot(services)
        self.sender = TeamsSender(services, self.adapter, settings.microsoft_app_id or "")
        self.auth = authenticated(settings)

    def mount(self, app: web.Application) -> None:
        app.router.add_post(ROUTE, self.messages)

    async def messages(self, request: web.Request) -> web.StreamResponse:
        if self.auth and not _bearer_shape(request.headers.get("Authorization", "")):
            return _problem(401, "a Bot Framework token is required (Authorization: Bearer …)")
        if "application/json" not in request.headers.get("Content-Type", ""):
            return _problem(415, "send the activity as application/json")
        try:
            body = await request.json()  # aiohttp keeps the body, so the adapter can read it again
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _problem(400, "the body is not valid JSON")
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            return _problem(400, "the body is not a Bot Framework activity (no `type`)")
        try:
            activity = Activity().deserialize(body)
        except DeserializationError:
            return _problem(400, "the body is not a Bot Framework activity (a field has the wrong type)")
        try:
            # What CloudAdapter.process does, minus its msrest serialisation of the invoke body:
            # Baton's invoke answers are plain JSON (Universal Actions responses).
            invoke = await self.adapter.process_activity(request.headers.get("Authorization", ""), activity,
                                                         self.bot.on_turn)
        except PermissionError:
            return _problem(401, "the Bot Framework token is not valid")
        if invoke is None:
            return web.Response(status=201)
        answer = invoke.body if isinstance(invoke.body, dict | list) or invoke.body is None \
            else serializer_helper(invoke.body)
        return web.json_response(answer, status=invoke.status)

    async def start(self) -> None:
        log.info("Teams: %s", "authenticated (app id set)" if self.auth else
                 "local unauthenticated mode for the Bot Framework Emulator (loopback only)")

    async def stop(self) -> None:
        return None

    async def ready(self) -> str:
        return "ok"
