"""When Teams says the bot is gone from a conversation: tell the admins and the managers channel, once."""

from __future__ import annotations

from handlers.messaging import outbox
from handlers.services import Services
from handlers.views.notice import Notice


async def alert_gone(services: Services, who: str, conversation_id: str) -> None:
    """Post the alert to every admin with a chat identity and to the managers channel (deduplicated
    per conversation, so a flapping install alerts once)."""
    agreement = services.agreement
    notice = Notice(
        title="Baton was removed from a Teams conversation",
        lines=[
            f"Teams says Baton is no longer in the conversation with {who}; messages there have stopped.",
            "Re-install the Baton app there (or ask that person to) and sending resumes.",
        ],
        context=f"Teams conversation {conversation_id}",
    )
    dedupe = f"teams-gone:{conversation_id}"
    async with services.db.transaction() as session:
        for admin in agreement.roles.admins:
            if agreement.person_by(email=admin):
                await outbox.post(session, services, notice, to_person=admin, dedupe=f"{dedupe}:{admin.lower()}")
        if agreement.channels.managers is not None:
            await outbox.post(
                session, services, notice, to_channel=agreement.channels.managers, dedupe=f"{dedupe}:managers"
            )
    services.wake_delivery()
