"""``/baton <text>``: one query engine (``handlers.queries.answer``) behind the command, mentions and DMs.

If the engine fails on a question, Baton still answers with an apology and a pointer to
``/baton help``. Never silence.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.logs import log_failure
from bot.slack.context import Deps
from bot.slack.identity import person_for, user_id
from bot.slack.render import message
from handlers import queries
from handlers.services import Services
from handlers.text import _
from handlers.views.notice import Notice

log = logging.getLogger(__name__)
HELP_COMMAND = "/baton help"  # a command, not words: the same in every language


async def answer(services: Services, text: str, asker_email: str | None) -> Notice:
    """What Baton says to ``text``; an apology rather than silence when the query engine fails."""
    text = " ".join(text.split())
    try:
        return await queries.answer(services, text, asker_email)
    except Exception as exc:  # a broken query must still get an answer, not silence
        log_failure(log, f"the query engine failed on {text[:80]!r}", exc, logging.ERROR)
        return Notice(title=_("answer.failed"), lines=[_("answer.try_again", help=HELP_COMMAND)])


def register(app: AsyncApp, deps: Deps) -> None:
    async def on_baton(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        async with deps.inflight.track():
            await ack()
            await deps.acks.settled()
            person = person_for(deps.services.agreement, user_id(body))
            notice = await answer(deps.services, str(body.get("text") or ""), person.email if person else None)
            rendered = message(notice)
            try:
                await respond(text=rendered.text, blocks=rendered.blocks, response_type="ephemeral")
            except Exception as exc:
                log_failure(log, "could not answer /baton", exc)

    app.command("/baton")(on_baton)
