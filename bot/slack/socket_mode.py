"""Socket Mode with the same malformed-payload handling as the HTTP endpoint.

Socket Mode requests carry no signature (they come over Baton's own authenticated
websocket), but their payloads get the same shape check (``inbound.shape_problem``) before
bolt routes them. A malformed one is acknowledged with an empty answer, so Slack does not
redeliver it, and logged as one line; nothing runs.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app, send_async_response
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.logs import log_failure
from bot.slack.actions import arrival_key
from bot.slack.context import AckGate
from bot.slack.inbound import shape_problem

log = logging.getLogger(__name__)


class CheckedSocketModeHandler(AsyncSocketModeHandler):
    acks: AckGate | None = None  # set by the Slack component: clicks on one lead keep their order

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
