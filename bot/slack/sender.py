"""The outbox ``Sender`` for Slack: chat.postMessage / chat.update, DMs, chart uploads.

Slack's answers are mapped to the three outcomes the delivery worker understands
(the error classes live in ``handlers.ports``): ``RetryLater`` for 429 (with its
Retry-After), 5xx and network trouble; ``ConversationGone`` when the bot can no
longer speak there; ``PermanentFailure`` for everything retrying cannot fix.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.render import message
from handlers.ports import ConversationGone, Delivered, Delivery, PermanentFailure, RetryLater
from handlers.views import load_view

log = logging.getLogger(__name__)

# The bot lost the conversation: stop sending there (the worker reports it via on_gone).
GONE = frozenset({"is_archived", "channel_is_archived", "account_inactive", "user_disabled",
                  "team_access_not_granted", "cannot_dm_bot", "user_not_found"})
# Slack's own trouble, reported with HTTP 200: try again later.
TRANSIENT = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout",
                       "ratelimited", "rate_limited"})


class SlackSender:
    """Delivers one outbox row to Slack; ``platform`` is the outbox key it serves."""

    platform = "slack"

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._dm_channels: dict[str, str] = {}  # user id -> IM channel id, from conversations.open

    def pacing_scopes(self, delivery: Delivery) -> tuple[str, ...]:
        return ()

    async def send(self, delivery: Delivery) -> Delivered | None:
        try:
            return await self._send(delivery)
        except SlackApiError as exc:
            raise _classify(exc) from None
        except (aiohttp.ClientError, TimeoutError, SlackClientError) as exc:
            raise RetryLater(None, f"network: {type(exc).__name__}: {exc}"[:300]) from None

    async def _send(self, delivery: Delivery) -> Delivered | None:
        payload = delivery.payload
        try:
            rendered = message(load_view(payload["view"]))
        except (KeyError, ValueError) as exc:
            raise PermanentFailure(f"cannot render outbox row {delivery.id}: {exc}") from None
        if delivery.op == "update":
            if not delivery.target_channel or not delivery.target_message:
                raise PermanentFailure("nothing to update: the original message was never delivered")
            await self.client.chat_update(channel=delivery.target_channel, ts=delivery.target_message,
                                          text=rendered.text, blocks=rendered.blocks)
            return Delivered(delivery.target_channel, delivery.target_message)
        if delivery.op != "post":
            raise PermanentFailure(f"Slack cannot deliver a {delivery.op!r} row")
        channel = payload.get("channel") or await self._dm(payload.get("user"), payload.get("email"))
        if payload.get("image_b64"):
            return await self._post_with_image(channel, rendered.blocks, payload)
        response = await self.client.chat_postMessage(channel=channel, text=rendered.text, blocks=rendered.blocks,
                                                      unfurl_links=False, unfurl_media=False)
        return Delivered(str(response["channel"]), str(response["ts"]))

    async def _dm(self, user: str | None, email: str | None) -> str:
        if not user:
            raise PermanentFailure(f"{email or 'this person'} has no Slack user id in the configuration")
        if user not in self._dm_channels:
            response = await self.client.conversations_open(users=user)
            self._dm_channels[user] = str(response["channel"]["id"])
        return self._dm_channels[user]

    async def _post_with_image(self, channel: str, blocks: list[dict[str, Any]],
                               payload: dict[str, Any]) -> Delivered:
        """One message carrying the chart and the blocks (files.completeUploadExternal takes ``blocks``),
        so a retry never leaves half a digest behind."""
        data = base64.b64decode(payload["image_b64"])
        name = str(payload.get("image_name") or "chart.png")
        response = await self.client.files_upload_v2(channel=channel, file=data, filename=name, title=name,
                                                     blocks=json.dumps(blocks))
        files = response.get("files") or [{}]
        shares = (files[0].get("shares") or {}) if isinstance(files[0], dict) else {}
        for scope in ("public", "private"):
            landed = (shares.get(scope) or {}).get(channel)
            if landed:
                return Delivered(channel, str(landed[0]["ts"]))
        # Slack fills ``shares`` asynchronously; the file id still names what was posted.
        return Delivered(channel, str(files[0].get("id", "")))


def _classify(exc: SlackApiError) -> Exception:
    response = exc.response
    status = int(getattr(response, "status_code", 0) or 0)
    error = str((response.get("error") if hasattr(response, "get") else None) or f"HTTP {status}")
    if status == 429:
        after = _retry_after(response)
        return RetryLater(after, f"rate limited by Slack (Retry-After {after})", rate_limited=True)
    if status >= 500 or error in TRANSIENT:
        return RetryLater(None, f"Slack is unavailable: {error}")
    if error in GONE:
        return ConversationGone(error)
    return PermanentFailure(f"Slack refused the message: {error}")


def _retry_after(response: Any) -> float:
    headers = getattr(response, "headers", None) or {}
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(0.0, float(value)) if value is not None else 1.0
    except (TypeError, ValueError):
        return 1.0
