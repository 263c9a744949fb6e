"""The outbox ``Sender`` for Slack: chat.postMessage / chat.update, DMs, chart uploads.

**Scopes.** A post consumes ``slack:channel:<channel id>`` (a DM: ``slack:channel:dm:<user id>``,
known from the row before the IM channel is resolved) and ``slack:workspace``; an update
consumes ``slack:update`` (chat.update's own tier) and ``slack:workspace`` (every chat write).
Slack's 429 does not say which limit it hit. For chat.postMessage we pause the channel only:
one busy channel (1 message a second, short bursts) is by far the common case, and pausing the
workspace for it would hold every other channel's cards. Should the workspace-wide limit be
the one hit, the other channels' posts get their own 429s and pause too, and the workspace
pacing keeps Baton under it in the first place. A 429 on chat.update pauses ``slack:update``;
one from any other method (conversations.open, conversations.history, files.*) pauses
``slack:workspace``, the scope every delivery shares.

**Errors** are classified in ``bot.slack.errors``: 429, 5xx (HTML bodies included), transient
``ok:false``, timeouts and dropped connections → ``RetryLater``; ``channel_not_found``,
``invalid_auth``... → ``PermanentFailure(code=...)``; the bot losing the conversation →
``ConversationGone``. slack_sdk's own retry handlers are switched off for this client: a
"connection error" retry after the request was sent could post the card twice.

**Crashes.** Every post names its outbox row (``bot.slack.reconcile``: message metadata, or a
block id for a chart upload). When the worker says a delivery is doubtful, or this process lost
the answer to an earlier attempt (timeout, dropped connection, 5xx), the channel's history is
searched first and a message already there is returned as delivered, not posted again.
"""

from __future__ import annotations

import base64
import json
import logging
from collections import OrderedDict
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import reconcile
from bot.slack.errors import classify, status_of
from bot.slack.render import message
from handlers.messaging.ports import Delivered, Delivery, PermanentFailure, RetryLater
from handlers.views import load_view

log = logging.getLogger(__name__)

WORKSPACE = "slack:workspace"
UPDATE = "slack:update"
# One send must not hold a sweep for slack_sdk's default 30 s.
SEND_TIMEOUT = 10
# Rows whose last attempt in this process may have landed; bounded so it cannot grow forever.
_UNSURE_MAX = 10_000
# Failures that leave open whether Slack acted on the request (it was sent, the answer never came).
_AMBIGUOUS = (TimeoutError, aiohttp.ServerDisconnectedError, aiohttp.ClientOSError, aiohttp.ClientPayloadError)


def channel_scope(delivery: Delivery) -> str | None:
    payload = delivery.payload
    if payload.get("channel"):
        return f"slack:channel:{payload['channel']}"
    if payload.get("user"):
        return f"slack:channel:dm:{payload['user']}"
    return None


class SlackSender:
    """Delivers one outbox row to Slack; ``platform`` is the outbox key it serves."""

    platform = "slack"

    def __init__(self, client: AsyncWebClient) -> None:
        # A sibling of the given client (same token, URL and session) that never retries by itself.
        self.client = AsyncWebClient(
            token=client.token,
            base_url=client.base_url,
            session=client.session,
            timeout=min(client.timeout, SEND_TIMEOUT),
            logger=client.logger,
            retry_handlers=[],
        )
        self._dm_channels: dict[str, str] = {}  # user id -> IM channel id, from conversations.open
        self._unsure: OrderedDict[int, None] = OrderedDict()

    def pacing_scopes(self, delivery: Delivery) -> tuple[str, ...]:
        if delivery.op == "update":
            return UPDATE, WORKSPACE
        if delivery.op == "post" and (scope := channel_scope(delivery)):
            return scope, WORKSPACE
        return (WORKSPACE,)

    def _limited(self, delivery: Delivery, method: str) -> tuple[str, ...]:
        scope = channel_scope(delivery)
        if method == "chat.postMessage" and scope:
            return (scope,)
        if method == "chat.update":
            return (UPDATE,)
        return (WORKSPACE,)

    async def send(self, delivery: Delivery) -> Delivered | None:
        state: dict[str, str] = {"method": "chat.postMessage" if delivery.op == "post" else "chat.update"}
        if delivery.doubtful:
            # Until a lookup or a post succeeds, stay doubtful here (the worker forgets it once the
            # attempt is settled as a retry).
            self._remember_unsure(delivery.id)
        try:
            return await self._send(delivery, state)
        except SlackApiError as exc:
            failure = classify(exc, state["method"], self._limited(delivery, state["method"]))
            if isinstance(failure, RetryLater) and not failure.rate_limited and status_of(exc.response) >= 500:
                failure.uncertain = self._maybe_landed(delivery, state)
            raise failure from None
        except _AMBIGUOUS as exc:
            raise RetryLater(
                None,
                f"no answer from Slack's {state['method']}: {type(exc).__name__}",
                uncertain=self._maybe_landed(delivery, state),
            ) from None
        except aiohttp.ClientConnectorError as exc:
            # The connection was never made: nothing reached Slack.
            raise RetryLater(None, f"network: {type(exc).__name__}: {exc}"[:300]) from None
        except (aiohttp.ClientError, SlackClientError) as exc:
            raise RetryLater(
                None, f"network: {type(exc).__name__}: {exc}"[:300], uncertain=self._maybe_landed(delivery, state)
            ) from None
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            # slack_sdk reading an answer that is not Slack's (a text/plain 200, JSON without ts...).
            raise RetryLater(
                None,
                f"unreadable answer from Slack's {state['method']}: {type(exc).__name__}",
                uncertain=self._maybe_landed(delivery, state),
            ) from None

    def _maybe_landed(self, delivery: Delivery, state: dict[str, str]) -> bool:
        """Whether the post request had been sent when this failure came: then it may have landed,
        and every later attempt (here, or the row's next claim anywhere) looks first."""
        if delivery.op == "post" and state.get("posting"):
            self._remember_unsure(delivery.id)
            return True
        return False

    def _remember_unsure(self, row_id: int) -> None:
        self._unsure[row_id] = None
        while len(self._unsure) > _UNSURE_MAX:
            self._unsure.popitem(last=False)

    async def _send(self, delivery: Delivery, state: dict[str, str]) -> Delivered | None:
        payload = delivery.payload
        try:
            rendered = message(load_view(payload["view"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise PermanentFailure(f"cannot render outbox row {delivery.id}: {exc}", code="unrenderable") from None
        if delivery.op == "update":
            if not delivery.target_channel or not delivery.target_message:
                raise PermanentFailure(
                    "nothing to update: the original message was never delivered", code="never_delivered"
                )
            await self.client.chat_update(
                channel=delivery.target_channel, ts=delivery.target_message, text=rendered.text, blocks=rendered.blocks
            )
            return Delivered(delivery.target_channel, delivery.target_message)
        if delivery.op != "post":
            raise PermanentFailure(f"Slack cannot deliver a {delivery.op!r} row", code="unknown_op")
        state["method"] = "conversations.open"
        channel = payload.get("channel") or await self._dm(payload.get("user"), payload.get("email"))
        if delivery.doubtful or delivery.id in self._unsure:
            found = await self._already_there(channel, delivery, state)
            if found is not None:
                log.info("outbox row %s was already in Slack channel %s: not posted again", delivery.id, channel)
                self._unsure.pop(delivery.id, None)
                return found
        state["posting"] = "yes"
        if payload.get("image_b64"):
            state["method"] = "files.completeUploadExternal"
            delivered = await self._post_with_image(channel, reconcile.mark_blocks(rendered.blocks, delivery), payload)
        else:
            state["method"] = "chat.postMessage"
            response = await self.client.chat_postMessage(
                channel=channel,
                text=rendered.text,
                blocks=rendered.blocks,
                unfurl_links=False,
                unfurl_media=False,
                metadata=reconcile.metadata(delivery),
            )
            delivered = Delivered(str(response["channel"]), str(response["ts"]))
        self._unsure.pop(delivery.id, None)
        return delivered

    async def _already_there(self, channel: str, delivery: Delivery, state: dict[str, str]) -> Delivered | None:
        state["method"] = "conversations.history"
        try:
            return await reconcile.find(self.client, channel, delivery)
        except SlackApiError as exc:
            failure = classify(exc, "conversations.history", (WORKSPACE,))
            if not isinstance(failure, PermanentFailure):
                raise
            # Cannot look (missing_scope, not_in_channel...): posting again risks a duplicate,
            # not posting risks a lost card; Baton prefers the duplicate.
            log.warning(
                "cannot check Slack channel %s for outbox row %s (%s); posting it", channel, delivery.id, failure.code
            )
            return None

    async def _dm(self, user: str | None, email: str | None) -> str:
        if not user:
            raise PermanentFailure(
                f"{email or 'this person'} has no Slack user id in the configuration", code="no_slack_id"
            )
        if user not in self._dm_channels:
            response = await self.client.conversations_open(users=user)
            self._dm_channels[user] = str(response["channel"]["id"])
        return self._dm_channels[user]

    async def _post_with_image(self, channel: str, blocks: list[dict[str, Any]], payload: dict[str, Any]) -> Delivered:
        """One message carrying the chart and the blocks (files.completeUploadExternal takes ``blocks``),
        so a retry never leaves half a digest behind."""
        data = base64.b64decode(payload["image_b64"])
        name = str(payload.get("image_name") or "chart.png")
        response = await self.client.files_upload_v2(
            channel=channel, file=data, filename=name, title=name, blocks=json.dumps(blocks)
        )
        files = response.get("files") or [{}]
        shares = (files[0].get("shares") or {}) if isinstance(files[0], dict) else {}
        for scope in ("public", "private"):
            landed = (shares.get(scope) or {}).get(channel)
            if landed:
                return Delivered(channel, str(landed[0]["ts"]))
        # Slack fills ``shares`` asynchronously; the file id still names what was posted.
        return Delivered(channel, str(files[0].get("id", "")))
