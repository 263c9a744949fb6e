"""Opening a 1:1 chat with a user Baton has not talked to yet (``POST /v3/conversations``).

Teams allows it once the app is installed for that user (for example in a team they belong
to); the new conversation's reference is stored like any other.
"""

from __future__ import annotations

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import ChannelAccount, ConversationParameters

from bot.teams import references
from handlers.services import Services
from store.models import Conversation


async def open_personal_chat(
    services: Services, adapter: CloudAdapter, bot_app_id: str, via: Conversation, user: str, email: str | None
) -> Conversation | None:
    """Create the chat with ``user`` (AAD object id) using ``via``'s service URL and tenant."""
    known = references.as_reference(via)
    tenant = via.tenant_id
    parameters = ConversationParameters(
        is_group=False,
        bot=known.bot,
        members=[ChannelAccount(id=user, aad_object_id=user)],
        tenant_id=tenant,
        channel_data={"tenant": {"id": tenant}} if tenant else None,
    )
    opened: dict[str, object] = {}

    async def callback(context: TurnContext) -> None:
        reference = TurnContext.get_conversation_reference(context.activity)
        reference.user = ChannelAccount(id=user, aad_object_id=user)
        reference.activity_id = None
        opened["reference"] = reference.serialize()
        opened["conversation"] = context.activity.conversation.id

    await adapter.create_conversation(bot_app_id, callback, parameters, known.channel_id, known.service_url)
    if "reference" not in opened:
        return None
    conversation_id = str(opened["conversation"])
    keys = [("conversation", conversation_id), ("user", user)] + ([("user", email.lower())] if email else [])
    reference = opened["reference"]
    assert isinstance(reference, dict)
    await references.store(services, keys, reference, tenant)
    return await references.find(services, user)
