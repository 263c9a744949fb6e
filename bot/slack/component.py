"""The Slack component of the runtime: ``POST /slack/events`` (HTTP mode) or Socket Mode, and the sender.

HTTP mode is mounted when a signing secret is set; Socket Mode starts when
``SLACK_APP_TOKEN`` is set (both may run at once). Events, interactivity and slash
commands share the one URL, as the manifest says.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError

from bot.logs import log_failure
from bot.settings import Settings
from bot.slack.actions import arrival_key
from bot.slack.app import build_app, make_client
from bot.slack.context import Deps
from bot.slack.inbound import Refusal, parse, verify
from bot.slack.manifest import EVENTS_PATH
from bot.slack.sender import SlackSender
from bot.slack.socket_mode import CheckedSocketModeHandler
from handlers.services import Services

log = logging.getLogger(__name__)


class SlackComponent:
    """Plugs Slack into a ``Runtime``: ``mount`` the endpoint, ``start``/``stop`` Socket Mode."""

    name = "slack"

    def __init__(self, settings: Settings, services: Services) -> None:
        if not settings.slack_bot_token:
            raise ValueError("SLACK_BOT_TOKEN is required for Slack")
        self.settings = settings
        self.client = make_client(settings)
        self.deps = Deps(services=services, welcome=settings.welcome)
        self.bolt = build_app(settings, self.deps, self.client)
        self.sender: SlackSender | None = SlackSender(self.client)
        self.socket: CheckedSocketModeHandler | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def inflight_count(self) -> int:
        return self.deps.inflight.count

    async def idle(self, grace: float | None = None) -> bool:
        """Wait until no listener is still working after its ack (tests, shutdown)."""
        return await self.deps.inflight.wait(grace)

    def mount(self, app: web.Application) -> None:
        if self.settings.slack_signing_secret:
            app.router.add_post(EVENTS_PATH, self.handle)
        else:
            log.info("Slack: no SLACK_SIGNING_SECRET, so %s is not served (Socket Mode only)", EVENTS_PATH)

    async def handle(self, request: web.Request) -> web.Response:
        async with self.deps.acks.request():
            body = await request.read()
            refused = verify(self.settings.slack_signing_secret or "", request.headers, body, time.time())
            payload = refused or parse(request.headers.get("Content-Type", ""), body)
            if isinstance(payload, Refusal):
                log.info("Slack: refused a request with %d: %s", payload.status, payload.reason)
                return web.json_response({"error": payload.reason}, status=payload.status)
            # A click takes its place in line now, before bolt dispatches (and awaits) anything.
            ticket = self.deps.acks.ticket(arrival_key(payload))
            response = await self._dispatch(request, payload)
            if response.status != 200:  # no listener ran (bolt found none, or refused it)
                self.deps.acks.release(ticket)
            return response

    async def _dispatch(self, request: web.Request, payload: dict[str, Any]) -> web.Response:
        # bolt gets the object we checked, re-encoded as JSON, so it cannot parse the body
        # differently (its form parser treats any body containing "payload" as an interaction).
        headers: dict[str, str | Sequence[str]] = {
            k: v for k, v in request.headers.items() if k.lower() != "content-type"
        }
        headers["Content-Type"] = "application/json"
        try:
            bolt_request = AsyncBoltRequest(body=json.dumps(payload), query=request.query_string, headers=headers)
            return await to_aiohttp_response(await self.bolt.async_dispatch(bolt_request))
        except Exception as exc:  # a 200 so Slack neither shows an error nor retries what would fail again
            log_failure(log, "Slack: dispatch failed", exc, logging.ERROR)
            return web.Response(status=200)

    async def start(self) -> None:
        # One connection pool for the process instead of a session per API call.
        self._session = aiohttp.ClientSession()
        self.client.session = self._session
        if self.sender is not None:
            # The sender's client was built before the session existed; without this every card
            # opened (and, on the real Slack, TLS-handshook) a connection of its own.
            self.sender.client.session = self._session
        if self.settings.slack_app_token:
            self.socket = CheckedSocketModeHandler(self.bolt, self.settings.slack_app_token)
            self.socket.acks = self.deps.acks
            await self.socket.connect_async()  # type: ignore[no-untyped-call]
            log.info("Slack: connected in Socket Mode")
        else:
            log.info("Slack: serving %s (HTTP mode)", EVENTS_PATH)

    async def stop(self) -> None:
        if not await self.idle(self.settings.shutdown_grace):
            log.warning("Slack: %d listener(s) still running at shutdown", self.inflight_count)
        if self.socket is not None:
            await self.socket.close_async()  # type: ignore[no-untyped-call]
            self.socket = None
        if self._session is not None:
            self.client.session = None
            if self.sender is not None:
                self.sender.client.session = None
            await self._session.close()
            self._session = None

    async def ready(self) -> str:
        """``auth.test``: "ok", or "degraded: <Slack's error code or the HTTP status>"."""
        try:
            await self.client.auth_test()
        except SlackApiError as exc:
            return f"degraded: {slack_problem(exc)}"
        except Exception as exc:  # readiness reports, never raises
            return f"degraded: {type(exc).__name__}"
        return "ok"


def slack_problem(exc: SlackApiError) -> str:
    """What failed, from whatever Slack answered: a JSON ``error`` code, else the HTTP status.

    An outage answers with an HTML or plain-text page, so ``response.data`` may be a str (or
    the response an aiohttp ``ClientResponse`` when the body could not be read at all)."""
    response = exc.response
    data = getattr(response, "data", None)
    error = data.get("error") if isinstance(data, dict) else None
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    if isinstance(error, str) and error:
        return error if status in (None, 200) else f"HTTP {status} ({error[:60]})"
    return f"HTTP {status}" if isinstance(status, int) else "no readable answer"
