"""Who is acting in Teams: the agreement's person, by AAD object id or by email.

The agreement may name a Teams user by ``teams_id`` (their AAD object id) or only by email;
for the latter the member's email is asked of Teams once and remembered for the process.
"""

from __future__ import annotations

import logging

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo

from handlers.services import Services
from handlers.text import _
from handlers.text.refusals import RefusalCode, refusal_text
from scoring.agreement import Person

log = logging.getLogger(__name__)
_CACHE_LIMIT = 10_000


def not_configured(aad_object_id: str | None) -> str:
    """The same refusal as on Slack, naming the id the admin should add."""
    return refusal_text(RefusalCode.NOT_CONFIGURED, platform="Teams", user=aad_object_id or _("person.unknown_id"))


class Identities:
    """Teams user → agreement person, with a per-process cache of AAD id → email lookups."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._emails: dict[str, str | None] = {}

    async def person(self, context: TurnContext) -> Person | None:
        sender = context.activity.from_property
        if sender is None or not sender.id:
            return None
        agreement = self.services.agreement
        if sender.aad_object_id:
            found = agreement.person_by(teams_id=sender.aad_object_id)
            if found:
                return found
        email = await self.email(context)
        return agreement.person_by(email=email) if email else None

    async def email(self, context: TurnContext) -> str | None:
        """The sender's email from Teams' roster (cached), or ``None`` if Teams will not say."""
        sender = context.activity.from_property
        key = sender.aad_object_id or sender.id
        if key in self._emails:
            return self._emails[key]
        if context.activity.channel_data is None:
            context.activity.channel_data = {}  # TeamsInfo reads it as a dict
        try:
            member = await TeamsInfo.get_member(context, sender.id)
        except Exception as exc:  # the Emulator and some chats have no roster; the person stays unknown
            log.info("could not look up Teams member %s: %s", key, type(exc).__name__)
            return None
        email: str | None = member.email or member.user_principal_name
        if len(self._emails) >= _CACHE_LIMIT:
            self._emails.clear()
        self._emails[key] = email.lower() if email else None
        return self._emails[key]
