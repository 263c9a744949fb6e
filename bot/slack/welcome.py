"""Slack: the welcome (``handlers.welcome``) when Baton joins a channel, and on a person's first
visit to its App Home (a DM: the App Home's own tab is republished on every visit anyway).

Slack tells the bot it joined with ``member_joined_channel`` whose ``user`` is the bot itself;
``member_left_channel`` for the bot forgets the channel, so inviting Baton again welcomes again.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.logs import log_failure
from bot.slack.context import Deps
from bot.slack.identity import person_for
from bot.slack.render import message
from handlers import welcome
from handlers.views.notice import Notice

log = logging.getLogger(__name__)
PLATFORM = "slack"


async def _post(deps: Deps, client: AsyncWebClient, channel: str, key: str, notice: Notice) -> None:
    rendered = message(notice)
    try:
        await client.chat_postMessage(channel=channel, text=rendered.text, blocks=rendered.blocks)
    except Exception as exc:  # a courtesy: Baton works without it, and the next occasion tries again
        log_failure(log, f"could not post the Slack welcome in {channel}", exc)
        await welcome.forget(deps.services, PLATFORM, [key])


async def welcome_home(deps: Deps, client: AsyncWebClient, slack_user: str) -> bool:
    """The first App Home visit of ``slack_user``: the personal welcome in their DM. True if sent."""
    if not deps.welcome or not slack_user:
        return False
    key = f"home:{slack_user}"
    if not await welcome.first_time(deps.services, PLATFORM, key, welcome.Place.HOME):
        return False
    person = person_for(deps.services.agreement, slack_user)
    notice = welcome.personal(deps.services.agreement, person.email if person else None)
    await _post(deps, client, slack_user, key, notice)
    return True


def register(app: AsyncApp, deps: Deps) -> None:
    async def on_joined(event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext) -> None:
        channel = str(event.get("channel") or "")
        if not deps.welcome or not channel or event.get("user") != context.bot_user_id:
            return  # someone else joined: not an install
        async with deps.inflight.track():
            key = f"channel:{channel}"
            if await welcome.first_time(deps.services, PLATFORM, key, welcome.Place.CHANNEL):
                await _post(deps, client, channel, key, welcome.channel(deps.services.agreement, PLATFORM, [channel]))

    async def on_left(event: dict[str, Any], context: AsyncBoltContext) -> None:
        channel = str(event.get("channel") or "")
        if channel and event.get("user") == context.bot_user_id:
            await welcome.forget(deps.services, PLATFORM, [f"channel:{channel}"])

    app.event("member_joined_channel")(on_joined)
    app.event("member_left_channel")(on_left)
