"""Events API: a mention or a DM gets the same answer as ``/baton``; retries never act twice.

Slack re-sends an event it thinks went unanswered, with ``X-Slack-Retry-Num``. Baton
acknowledges every event at once, so a retry means the first copy arrived: retries
are acknowledged and dropped without acting, and a small in-process memory of recent
``event_id``s drops duplicates that come without the header. Socket Mode envelopes carry the
same number as ``retry_attempt`` (0 on a first delivery).
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.say.async_say import AsyncSay
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.logs import log_failure
from bot.slack.commands import answer
from bot.slack.context import Deps
from bot.slack.identity import person_for
from bot.slack.render import message

log = logging.getLogger(__name__)
_MENTION = re.compile(r"<@[A-Z0-9]+(\|[^>]*)?>")


class SeenEvents:
    """The last ``size`` event ids, oldest forgotten first."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def first_time(self, event_id: str) -> bool:
        if event_id in self._ids:
            return False
        self._ids[event_id] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True


def is_retry(req: AsyncBoltRequest) -> bool:
    """A redelivery: ``X-Slack-Retry-Num`` above 0 (HTTP), or a Socket Mode ``retry_attempt`` above 0.

    Slack's Socket Mode envelopes carry ``retry_attempt: 0`` on the first delivery, and bolt mirrors
    that into an ``x-slack-retry-num: 0`` header: zero is a first delivery, not a retry."""
    return _attempt(req.headers.get("x-slack-retry-num")) > 0 or _attempt((req.body or {}).get("retry_attempt")) > 0


def _attempt(value: object) -> int:
    """The retry number in a header (bolt keeps header values as lists) or a field; 0 when absent.

    A value that is there but not a number counts as a retry, as any header value once did."""
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    if value is None or value == "":
        return 0
    try:
        return int(str(value))
    except ValueError:
        return 1


def dedupe_middleware(seen: SeenEvents) -> Callable[..., Awaitable[BoltResponse | None]]:
    async def drop_retries(
        req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        body = req.body or {}
        if body.get("type") == "event_callback":
            event_id = str(body.get("event_id") or "")
            if is_retry(req) or (event_id and not seen.first_time(event_id)):
                log.info("Slack event %s re-sent; acknowledged without acting", event_id or "?")
                return BoltResponse(status=200, body="", headers={"x-slack-no-retry": "1"})
        await next()
        return None

    return drop_retries


def question(text: str) -> str:
    """The words addressed to Baton, without the ``<@bot>`` mention."""
    return " ".join(_MENTION.sub(" ", text or "").split())


def _from_a_bot(event: dict[str, Any]) -> bool:
    return bool(event.get("bot_id") or event.get("subtype") or not event.get("user"))


def register(app: AsyncApp, deps: Deps) -> None:
    app.middleware(dedupe_middleware(SeenEvents()))

    async def reply(event: dict[str, Any], say: AsyncSay, thread: bool) -> None:
        async with deps.inflight.track():
            person = person_for(deps.services.agreement, event.get("user"))
            notice = await answer(
                deps.services, question(str(event.get("text") or "")), person.email if person else None
            )
            rendered = message(notice)
            thread_ts = (event.get("thread_ts") or event.get("ts")) if thread else None
            try:
                await say(text=rendered.text, blocks=rendered.blocks, thread_ts=thread_ts)
            except Exception as exc:
                log_failure(log, "could not answer a Slack event", exc)

    async def on_mention(event: dict[str, Any], say: AsyncSay) -> None:
        if not _from_a_bot(event):
            await reply(event, say, thread=True)

    async def on_message(event: dict[str, Any], say: AsyncSay) -> None:
        if event.get("channel_type") == "im" and not _from_a_bot(event):
            await reply(event, say, thread=False)

    app.event("app_mention")(on_mention)
    app.event("message")(on_message)
