"""Finding a channel Baton never heard from in the teams it is installed in.

Teams announces an install once, in General; a lead channel elsewhere in that team sends
nothing until someone speaks there. The connector lists a team's channels
(``GET /v3/teams/{teamId}/conversations``); each is stored under its channel id with the
team's reference pointed at it, so the next post there is a plain lookup. Listing happens only
for a channel that is not stored yet, once per team per miss.
"""

from __future__ import annotations

import asyncio
import logging

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.integration.aiohttp import CloudAdapter

from bot.teams import references
from handlers.services import Services
from store.models import Conversation

log = logging.getLogger(__name__)


async def channel_ids(adapter: CloudAdapter, bot_app_id: str, team: Conversation) -> list[str]:
    """The ids of every channel of ``team`` (General's id is the team id), as the connector lists them."""
    team_id = str(team.reference.get("team_id") or "")
    if not team_id:
        return []
    found: list[str] = []

    async def callback(context: TurnContext) -> None:
        client = await TeamsInfo.get_teams_connector_client(context)
        # botbuilder's Teams client is synchronous (requests): off the event loop.
        listed = await asyncio.to_thread(client.teams.get_teams_channels, team_id)
        found.extend(str(c.id) for c in (listed.conversations or []) if c.id)

    await adapter.continue_conversation(references.as_reference(team), callback, bot_app_id)
    return found


async def discover(services: Services, adapter: CloudAdapter, bot_app_id: str, channel: str) -> Conversation | None:
    """Store the channels of every team Baton is in until ``channel`` is among them; its row or None.

    A team the connector will not list (removed, throttled, unreachable) is skipped: the
    caller retries later, and the other teams are still searched.
    """
    for team in await references.teams(services):
        try:
            ids = await channel_ids(adapter, bot_app_id, team)
        except Exception as exc:  # one team's failure must not hide the channel in another
            log.info("could not list the channels of Teams team %s: %s", team.key, type(exc).__name__)
            continue
        team_id = str(team.reference["team_id"])
        for channel_id in ids:
            await references.store(
                services,
                [("channel", channel_id)],
                references.with_conversation(team.reference, channel_id),
                team.tenant_id,
            )
        if channel in ids:
            log.info("Teams channel %s found in team %s", channel, team_id)
            return await references.find(services, channel)
    return None
