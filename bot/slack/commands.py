"""``/baton <text>``: one query engine (``handlers.queries.answer``) behind the command, mentions and DMs.

If the query engine is not installed in this build, Baton still answers: ``help``
with the built-in list and anything else with a pointer to it. Never silence.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, cast

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.logs import log_failure
from bot.slack.context import Deps
from bot.slack.identity import person_for, user_id
from bot.slack.render import message
from handlers.services import Services
from handlers.views.notice import Notice

log = logging.getLogger(__name__)
Answer = Callable[[Services, str, str | None], Awaitable[Notice]]

COMMANDS = [
    ("help", "this list"),
    ("define [term]", "the agreed definitions: MQL, SAL, SQL, scoring rules, SLAs"),
    ("stats [period]", "leads handed over, acceptance rate, follow-up time"),
    ("sla", "how sales and marketing are doing against their commitments"),
    ("feedback [period]", "why leads were rejected"),
    ("lead <email or id>", "one lead: score, stage, owner, history"),
    ("my", "your open offers, accepted leads and deadlines"),
    ("ooo on|off", "pause or resume new offers to you"),
]


def help_notice(unknown: str | None = None) -> Notice:
    lines = [f"`/baton {name}`: {what}" for name, what in COMMANDS]
    if unknown:
        return Notice(title=f"I don't know “{unknown}” yet. Here is what I can do:", lines=lines,
                      context="You can also mention me or DM me the same words.")
    return Notice(title="Baton: what you can ask", lines=lines,
                  context="You can also mention me or DM me the same words.")


def _engine() -> Answer | None:
    try:
        module = importlib.import_module("handlers.queries")
    except ImportError:
        return None
    found = getattr(module, "answer", None)
    return cast(Answer, found) if callable(found) else None


async def answer(services: Services, text: str, asker_email: str | None) -> Notice:
    """What Baton says to ``text``; built-in help when the query engine is missing or fails."""
    text = " ".join(text.split())
    engine = _engine()
    if engine is None:
        word = text.split(" ", 1)[0].lower() if text else ""
        return help_notice(None if word in ("", "help") else text[:80])
    try:
        return await engine(services, text, asker_email)
    except Exception as exc:  # a broken query must still get an answer, not silence
        log_failure(log, f"the query engine failed on {text[:80]!r}", exc, logging.ERROR)
        return Notice(title="Sorry, I couldn't answer that just now.",
                      lines=["Try again in a minute, or `/baton help` for what I can do."])


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
