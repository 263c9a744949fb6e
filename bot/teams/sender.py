"""The outbox's Teams sender: proactive posts and card updates through ``continue_conversation``.

A person is reached through the reference stored when they installed the app or spoke to it
(by AAD object id, then email); a channel by its conversation id.

**Scopes.** Every send or update consumes ``teams:conversation:<id>`` (a person's chat, whose
id is only known after a database lookup: ``teams:conversation:user:<AAD id or email>``) and
``teams:tenant:<tenant id>`` (``teams:tenant`` when the deployment names no tenant). The
connector's 429 does not say which limit it hit; it pauses the conversation, whose limit
(a few messages a second per thread) is far tighter than the tenant's (about 50 requests a
second), so one busy channel does not hold every other conversation. A 429 while opening a
new chat pauses the tenant.

**Errors.** 403 ``BotNotInConversationRoster`` (and 404 ``ConversationNotFound`` on a send)
→ ``ConversationGone`` (the conversation is marked gone); 429, 412, 5xx (HTML bodies
included), timeouts and dropped connections → ``RetryLater``; other 4xx →
``PermanentFailure`` with the connector's code.

**The duplicate window.** The connector offers no way to search a conversation for a message
Baton sent, so a send whose answer was lost (the process died after Teams accepted the
activity and before the outbox row was marked sent, or the connection dropped after the
request reached Teams) is sent again: that card can appear twice. The window is one send
long (milliseconds to the request timeout); nothing is ever lost.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from azure.core.exceptions import DeserializationError
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from msrest.exceptions import ClientRequestError, HttpOperationError

from bot.teams import mentions, references
from bot.teams.activities import card_activity
from bot.teams.conversations import open_personal_chat
from bot.teams.gone import alert_gone
from bot.teams.render import render_view, summary
from bot.teams.render_notice import image_placement
from bot.teams.team_channels import discover
from handlers.messaging.ports import ConversationGone, Delivered, Delivery, PermanentFailure, RetryLater, retry_after
from handlers.services import Services
from handlers.views import load_view
from handlers.views.notice import Notice
from store.models import Conversation

log = logging.getLogger(__name__)
_RETRY = {408, 412, 425, 429}  # and every 5xx
_GONE_CODES = {"BotNotInConversationRoster", "ConversationBlockedByUser", "BotDisabledByAdmin"}
DEFAULT_RETRY_AFTER = 1.0  # a 429 without Retry-After


def conversation_scope(delivery: Delivery) -> str:
    payload = delivery.payload
    if delivery.op == "update" and delivery.target_channel:
        return f"teams:conversation:{delivery.target_channel}"
    if payload.get("channel"):
        return f"teams:conversation:{payload['channel']}"
    return f"teams:conversation:user:{payload.get('user') or payload.get('email') or '?'}"


class TeamsSender:
    """``Sender`` for platform ``teams``."""

    platform = "teams"

    def __init__(
        self, services: Services, adapter: CloudAdapter, bot_app_id: str, tenant_id: str | None = None
    ) -> None:
        self.services = services
        self.adapter = adapter
        self.bot_app_id = bot_app_id
        self.tenant_scope = f"teams:tenant:{tenant_id}" if tenant_id else "teams:tenant"

    def pacing_scopes(self, delivery: Delivery) -> tuple[str, ...]:
        return conversation_scope(delivery), self.tenant_scope

    async def send(self, delivery: Delivery) -> Delivered | None:
        payload = delivery.payload
        try:
            view = load_view(payload["view"])
        except (KeyError, TypeError, ValueError) as exc:
            raise PermanentFailure(f"not a Baton view: {exc}") from None
        image = payload.get("image_b64") if isinstance(payload.get("image_b64"), str) else None
        content = render_view(view, image_png_b64=image)
        # People a notice notifies are real mentions in the text beside the card (an update keeps
        # them, so the message keeps its shape; Teams notifies on the post only).
        found = await mentions.resolve(self.services, view.notify) if isinstance(view, Notice) else []
        text = mentions.text_with(found, view.title) if found and isinstance(view, Notice) else None
        entities = [m.entity() for m in found] or None
        if delivery.op == "update":
            return await self._update(
                delivery,
                card_activity(
                    content, summary(view), activity_id=delivery.target_message, text=text, entities=entities
                ),
            )
        beside = image if image_placement(image) == "attachment" else None
        activity = card_activity(
            content,
            summary(view),
            image_png_b64=beside,
            image_name=str(payload.get("image_name") or "chart.png"),
            text=text,
            entities=entities,
        )
        row = await self._conversation(delivery)
        return await self._post(row, self._who(payload), activity, conversation_scope(delivery))

    async def _conversation(self, delivery: Delivery) -> Conversation:
        payload = delivery.payload
        if payload.get("channel"):
            row = await references.find(self.services, payload["channel"])
            if row is None:
                # Installed in the team, never spoken to in this channel: ask the connector.
                row = await discover(self.services, self.adapter, self.bot_app_id, str(payload["channel"]))
            if row is None:
                raise RetryLater(
                    None,
                    f"Baton is not in the team of Teams channel {payload['channel']} "
                    "(no team install seen lists that channel); add the app to that team",
                )
        else:
            user, email = payload.get("user"), payload.get("email")
            row = await references.find(self.services, user, email)
            if row is None and user:
                row = await self._open_chat(user, email)
            if row is None:
                raise RetryLater(
                    None, f"{email or user} has not installed the Baton app in Teams yet (no stored conversation)"
                )
        if row.gone:
            raise ConversationGone(f"Baton was removed from Teams conversation {row.key}")
        return row

    async def _open_chat(self, user: str, email: str | None) -> Conversation | None:
        """Start a 1:1 chat with a user Baton has not talked to, through a known conversation's service URL."""
        via = await references.any_in_tenant(self.services, None)  # one tenant per deployment in practice
        if via is None:
            return None
        try:
            return await open_personal_chat(self.services, self.adapter, self.bot_app_id, via, user, email)
        except HttpOperationError as exc:
            status, code, _ = _status(exc)
            if status == 429 or status >= 500 or status in _RETRY:
                raise RetryLater(
                    _after(exc, status),
                    f"Teams answered {status} {code} opening a chat".strip(),
                    rate_limited=status == 429,
                    scopes=(self.tenant_scope,),
                ) from None
            log.info("could not open a Teams chat with %s: %s", email or user, (status, code))
            return None
        except (aiohttp.ClientError, ClientRequestError, TimeoutError, DeserializationError) as exc:
            raise RetryLater(None, f"Teams unreachable opening a chat: {type(exc).__name__}") from None

    @staticmethod
    def _who(payload: dict[str, Any]) -> str:
        return str(payload.get("email") or payload.get("user") or f"channel {payload.get('channel')}")

    async def _post(self, row: Conversation, who: str, activity: Activity, scope: str) -> Delivered:
        reference = references.as_reference(row)
        sent: dict[str, str] = {}

        async def callback(context: TurnContext) -> None:
            # A new message, not a reply to the synthetic continuation event (whose id is random).
            context.activity.id = None
            response = await context.send_activity(activity)
            sent["id"] = response.id if response and response.id else ""

        await self._call(
            reference.conversation.id,
            who,
            scope,
            "post",
            self.adapter.continue_conversation(reference, callback, self.bot_app_id),
        )
        return Delivered(channel=reference.conversation.id, message_id=sent.get("id", ""))

    async def _update(self, delivery: Delivery, activity: Activity) -> Delivered | None:
        if not delivery.target_channel or not delivery.target_message:
            raise PermanentFailure("the Teams message to update was never delivered", code="never_delivered")
        row = await references.find(self.services, delivery.target_channel)
        if row is None:
            raise PermanentFailure(
                f"no stored Teams conversation {delivery.target_channel} to update", code="no_conversation"
            )
        if row.gone:
            raise ConversationGone(f"Baton was removed from Teams conversation {row.key}")
        reference = references.as_reference(row)
        reference.conversation.id = delivery.target_channel

        async def callback(context: TurnContext) -> None:
            await context.update_activity(activity)

        await self._call(
            delivery.target_channel,
            f"conversation {row.key}",
            conversation_scope(delivery),
            "update",
            self.adapter.continue_conversation(reference, callback, self.bot_app_id),
        )
        return None

    async def _call(self, conversation_id: str, who: str, scope: str, op: str, call: Any) -> None:
        try:
            await call
        except HttpOperationError as exc:
            await self._raise_for(conversation_id, who, scope, op, exc)
        except (aiohttp.ClientError, ClientRequestError, TimeoutError) as exc:
            raise RetryLater(None, f"Teams unreachable: {type(exc).__name__}") from None
        except DeserializationError:
            # msrest reads the body before the status: a gateway's HTML page (502/504) ends here.
            raise RetryLater(None, "Teams answered with a body that is not JSON (a gateway's error page?)") from None

    async def _raise_for(self, conversation_id: str, who: str, scope: str, op: str, exc: HttpOperationError) -> None:
        status, code, message = _status(exc)
        gone = (status == 403 and (code in _GONE_CODES or "roster" in message.lower())) or (
            status == 404 and op == "post" and code == "ConversationNotFound"
        )
        if gone:
            marked = await references.mark_gone(self.services, conversation_id)
            log.warning(
                "Baton is no longer in Teams conversation %s (%s); %s keys marked gone", conversation_id, code, marked
            )
            await alert_gone(self.services, who, conversation_id)
            # alert_gone has told the admins: the worker parks the row without a second alert.
            raise ConversationGone(
                f"{code or 'Forbidden'}: {message}", code=code or str(status), alerted=True
            ) from None
        if status in _RETRY or status >= 500 or status == 0:
            raise RetryLater(
                _after(exc, status),
                f"Teams answered {status or 'nothing'} {code}".strip(),
                rate_limited=status == 429,
                scopes=(scope,) if status == 429 else (),
            ) from None
        raise PermanentFailure(
            f"Teams refused the message: {status} {code} {message}".strip()[:500], code=code or str(status)
        ) from None


def _status(exc: HttpOperationError) -> tuple[int, str, str]:
    """Status, the connector's error code and message; an HTML body (a gateway's page) has no code."""
    response = exc.response
    status = getattr(response, "status_code", None) or getattr(response, "status", None) or 0
    inner = getattr(getattr(exc, "error", None), "error", None)
    code = getattr(inner, "code", None) or ""
    message = getattr(inner, "message", None) or str(exc)
    try:
        return int(status), str(code), str(message)
    except (TypeError, ValueError):
        return 0, str(code), str(message)


def _after(exc: HttpOperationError, status: int) -> float | None:
    headers = getattr(exc.response, "headers", None) or {}
    try:
        value = headers.get("Retry-After")
    except AttributeError:
        value = None
    after = retry_after(value)
    return DEFAULT_RETRY_AFTER if after is None and status == 429 else after
