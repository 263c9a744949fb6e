"""Teams: the welcome on install (``handlers.welcome``), in the conversation Teams announced it in.

Teams announces an install with ``installationUpdate`` (action ``add``) and, for the bot joining,
``conversationUpdate`` with the bot in ``membersAdded``; a team install arrives in General with
``channelData.team``. Both may come for one install: ``handlers.welcome.first_time`` keeps one.
An upgrade (``add-upgrade``) is not an install and is not welcomed.
"""

from __future__ import annotations

import logging

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from bot.logs import log_failure
from bot.teams.activities import card_activity
from bot.teams.references import PLATFORM, base_conversation_id, team_of
from bot.teams.render import render_view, summary
from handlers import welcome
from handlers.services import Services

log = logging.getLogger(__name__)


def welcome_key_of(activity: Activity) -> str | None:
    """The key a conversation's welcome is recorded under: a team for a team install."""
    if activity.conversation is None or not activity.conversation.id:
        return None
    team = team_of(activity)
    if (activity.conversation.conversation_type or "personal") == "channel" and team:
        return f"team:{team}"
    return f"conversation:{base_conversation_id(activity.conversation.id)}"


async def welcome_on_install(services: Services, context: TurnContext, email: str | None) -> bool:
    """Send the welcome if this is the first time Baton hears of this install; True if sent."""
    activity = context.activity
    key = welcome_key_of(activity)
    if key is None or activity.conversation is None:
        return False
    kind = activity.conversation.conversation_type or "personal"  # the Emulator sends no type
    agreement = services.agreement
    if kind == "personal":
        sender = activity.from_property
        place, notice = welcome.Place.PERSONAL, welcome.personal(agreement, email, sender.name if sender else None)
    else:
        conversation = base_conversation_id(activity.conversation.id)
        data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
        channel = data.get("channel")
        channel_id = str(channel.get("id") or "") if isinstance(channel, dict) else ""
        team = team_of(activity)
        ids = [conversation, channel_id, team or ""]
        in_team = welcome.Place.TEAM if team else welcome.Place.CHANNEL
        place = in_team if kind == "channel" else welcome.Place.GROUP
        notice = welcome.channel(agreement, PLATFORM, [i for i in ids if i])
    if not await welcome.first_time(services, PLATFORM, key, place):
        return False
    try:
        await context.send_activity(card_activity(render_view(notice), summary(notice)))
    except Exception as exc:  # the install itself worked; the welcome is a courtesy, tried again next time
        log_failure(log, "could not send the Teams welcome", exc)
        await welcome.forget(services, PLATFORM, [key])
        return False
    return True
