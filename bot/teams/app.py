"""The Teams bot's turn logic: remember where we were spoken to, then route the activity.

Every activity stores its conversation reference (install, message, button press), so the
outbox can reach that person or channel later. Messages go to the query engine; card
actions (``adaptiveCard/action``) to ``bot.teams.invoke``.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from botbuilder.core import ActivityHandler, InvokeResponse, TurnContext
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount

from bot.teams import invoke, references
from bot.teams.identity import Identities
from bot.teams.questions import answer_message
from bot.teams.welcome import welcome_key_of, welcome_on_install
from handlers import welcome
from handlers.services import Services
from scoring.agreement import Person

log = logging.getLogger(__name__)
_PERSON = "baton.person"
_REMEMBERED = (
    ActivityTypes.message,
    ActivityTypes.conversation_update,
    ActivityTypes.invoke,
    ActivityTypes.installation_update,  # install, re-install and upgrade, in any scope
)


def _uninstalled(activity: Activity) -> bool:
    # Only "remove": "remove-upgrade" is half of a version upgrade, and the app stays installed.
    return bool(activity.type == ActivityTypes.installation_update and activity.action == "remove")


class BatonTeamsBot(ActivityHandler):  # type: ignore[misc]  # botbuilder ships no types
    """One per process; holds no per-conversation state (the store does)."""

    def __init__(self, services: Services, welcome: bool = True) -> None:
        self.services = services
        self.identities = Identities(services)
        self.welcome = welcome  # BATON_WELCOME

    @staticmethod
    def person(context: TurnContext) -> Person | None:
        found: Person | None = context.turn_state.get(_PERSON)
        return found

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if activity.type in _REMEMBERED:
            person = await self.identities.person(turn_context)
            turn_context.turn_state[_PERSON] = person
            if not self._bot_removed(turn_context) and not _uninstalled(activity):
                await references.remember(self.services, activity, person.email if person else None)
        await super().on_turn(turn_context)

    @staticmethod
    def _bot_removed(context: TurnContext) -> bool:
        bot_id = context.activity.recipient.id if context.activity.recipient else None
        removed = context.activity.members_removed or []
        return any(member.id == bot_id for member in removed)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        person = self.person(turn_context)
        await answer_message(self.services, turn_context, person.email if person else None)

    async def on_members_removed_activity(
        self, members_removed: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        if self._bot_removed(turn_context):
            await self._forget(turn_context.activity)

    async def on_members_added_activity(self, members_added: list[ChannelAccount], turn_context: TurnContext) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if self.welcome and any(member.id == bot_id for member in members_added):
            person = self.person(turn_context)
            await welcome_on_install(self.services, turn_context, person.email if person else None)

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        if self.welcome and turn_context.activity.action == "add":  # not "add-upgrade": no new install
            person = self.person(turn_context)
            await welcome_on_install(self.services, turn_context, person.email if person else None)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        if _uninstalled(turn_context.activity):
            await self._forget(turn_context.activity)

    async def _forget(self, activity: Activity) -> None:
        """Uninstalled: stop sending there (every channel, for a team) now rather than after a failed delivery."""
        if not activity.conversation or not activity.conversation.id:
            return
        marked = await references.mark_gone(
            self.services, references.base_conversation_id(activity.conversation.id), references.team_of(activity)
        )
        log.info("Baton was removed from a Teams conversation (%s keys marked gone)", marked)
        key = welcome_key_of(activity)
        await welcome.forget(self.services, references.PLATFORM, [key] if key else [])

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        if turn_context.activity.name != "adaptiveCard/action":
            # A 4xx, not botbuilder's 501: Baton's manifest declares no other invoke, so one is the
            # caller's mistake, and a 5xx would read as Baton failing.
            name = str(turn_context.activity.name or "")[:60]
            return InvokeResponse(
                status=int(HTTPStatus.BAD_REQUEST),
                body={"error": f"Baton handles only adaptiveCard/action invokes, not {name!r}"},
            )
        person = self.person(turn_context)
        sender = turn_context.activity.from_property
        body = await invoke.handle(
            self.services,
            turn_context.activity.value,
            person.email if person else None,
            sender.aad_object_id if sender else None,
        )
        return InvokeResponse(status=int(HTTPStatus.OK), body=body)
