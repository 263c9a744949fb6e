"""Socket Mode with the same malformed-payload handling as the HTTP endpoint.

Socket Mode requests carry no signature (they come over Baton's own authenticated
websocket), but their payloads get the same shape check (``inbound.shape_problem``) before
bolt routes them. A malformed one is acknowledged with an empty answer, so Slack does not
redeliver it, and logged as one line; nothing runs.

An envelope with no ``type`` or no ``payload``, or a payload that is neither an object nor a
string, never becomes a request: slack_sdk skips it, or its ``SocketModeRequest`` refuses it
with a ``ValueError`` (logged with a traceback), and nothing acknowledges it, so Slack would
redeliver it. A message listener, which the client runs on the decoded message before it
builds the request, acknowledges such an envelope, logs one line and takes the payload out,
so the client builds no request from it.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app, send_async_response
from slack_bolt.async_app import AsyncApp
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.logs import log_failure
from bot.slack.actions import arrival_key
from bot.slack.context import AckGate
from bot.slack.inbound import shape_problem

log = logging.getLogger(__name__)


class CheckedSocketModeHandler(AsyncSocketModeHandler):
    acks: AckGate | None = None  # set by the Slack component: clicks on one lead keep their order

    def __init__(self, app: AsyncApp, app_token: str) -> None:
        super().__init__(app, app_token)
        self.client.message_listeners.append(self._unreadable)

    async def _unreadable(self, client: Any, message: dict[str, Any], raw: str | None) -> None:
        if "envelope_id" not in message:
            return  # hello, disconnect: not envelopes
        if "payload" not in message:
            problem = "it has no payload"
        elif not isinstance(message["payload"], dict | str):
            problem = "the payload is not a JSON object"
        elif "type" not in message:
            problem = "it has no type"
        else:
            return
        log.info("Slack (Socket Mode): ignored a malformed %s envelope: %s", message.get("type") or "untyped", problem)
        message.pop("payload", None)  # the client then builds no request (and logs no traceback)
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=str(message["envelope_id"])))

    async def handle(self, client: Any, req: SocketModeRequest) -> None:
        start = time.time()
        payload = req.payload
        problem = "the payload is not a JSON object" if not isinstance(payload, dict) else shape_problem(payload)
        if problem:
            log.info("Slack (Socket Mode): ignored a malformed %s envelope: %s", req.type, problem)
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return
        # A click takes its place in line as its envelope arrives, like over HTTP (``AckGate``).
        ticket = self.acks.ticket(arrival_key(payload)) if self.acks is not None else None
        try:
            response = await run_async_bolt_app(self.app, req)
            if response.status != 200 and self.acks is not None:
                self.acks.release(ticket)
        except Exception as exc:  # bolt's own failure: one line, and an ack so Slack does not redeliver
            log_failure(log, "Slack (Socket Mode): dispatch failed", exc, logging.ERROR)
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return
        await send_async_response(client, req, response, start)
