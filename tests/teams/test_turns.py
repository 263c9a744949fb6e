"""Turn logic with botbuilder's TestAdapter: questions, mention stripping, reference capture."""

from __future__ import annotations

from typing import Any

import pytest
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount, Entity
from sqlalchemy import select

from bot.teams.app import BatonTeamsBot
from bot.teams.questions import question_text
from handlers.services import Services
from store.models import Conversation

BOT = ChannelAccount(id="28:baton", name="Baton")


def adapter_for(
    services: Services,
    *,
    email: str = "alice@example.com",
    aad: str = "aad-alice",
    conversation_type: str = "personal",
    conversation_id: str = "a:chat-1",
) -> TestAdapter:
    template = Activity(
        channel_id="msteams",
        service_url="https://smba.example.invalid/",
        from_property=ChannelAccount(id=f"29:{aad}", name=email, aad_object_id=aad),
        recipient=BOT,
        channel_data={"tenant": {"id": "t-1"}},
        conversation=ConversationAccount(id=conversation_id, conversation_type=conversation_type, tenant_id="t-1"),
    )
    return TestAdapter(BatonTeamsBot(services).on_turn, template)


def mention_entity() -> Entity:
    return Entity().deserialize(
        {"type": "mention", "text": "<at>Baton</at>", "mentioned": {"id": BOT.id, "name": "Baton"}}
    )


def card_of(reply: Activity) -> dict[str, Any]:
    content: dict[str, Any] = reply.attachments[0].content
    return content


async def stored_keys(services: Services) -> set[str]:
    async with services.db.transaction() as session:
        return set((await session.scalars(select(Conversation.key))).all())


async def test_a_personal_message_is_answered_by_the_query_engine(services: Services) -> None:
    adapter = adapter_for(services)
    await adapter.receive_activity(Activity(type=ActivityTypes.message, text="help"))
    reply = adapter.get_next_activity()
    assert reply is not None and reply.attachments[0].content_type == "application/vnd.microsoft.card.adaptive"
    assert card_of(reply)["type"] == "AdaptiveCard"


async def test_a_message_stores_the_reference_under_aad_id_email_and_conversation(services: Services) -> None:
    adapter = adapter_for(services)
    await adapter.receive_activity(Activity(type=ActivityTypes.message, text="help"))
    assert await stored_keys(services) == {"aad-alice", "alice@example.com", "a:chat-1"}


async def test_a_channel_message_without_a_mention_is_ignored_but_remembered(services: Services) -> None:
    adapter = adapter_for(services, conversation_type="channel", conversation_id="19:sales@thread.tacv2;messageid=1")
    await adapter.receive_activity(Activity(type=ActivityTypes.message, text="lunch?"))
    assert adapter.get_next_activity() is None
    assert await stored_keys(services) == {"19:sales@thread.tacv2"}


async def test_a_channel_mention_is_stripped_before_the_question_is_asked(services: Services) -> None:
    adapter = adapter_for(services, conversation_type="channel", conversation_id="19:sales@thread.tacv2")
    await adapter.receive_activity(
        Activity(type=ActivityTypes.message, text="<at>Baton</at> define MQL", entities=[mention_entity()])
    )
    reply = adapter.get_next_activity()
    assert reply is not None and "MQL" in str(card_of(reply))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("<at>Baton</at> stats last week", "stats last week"),
        ("<at>Baton</at>", ""),
        ("  <at>Baton</at>   my &amp; leads ", "my & leads"),
    ],
)
def test_question_text_strips_the_mention_markup_and_spaces(text: str, expected: str) -> None:
    activity = Activity(
        type="message",
        text=text,
        recipient=BOT,
        entities=[mention_entity()],
        conversation=ConversationAccount(id="19:x", conversation_type="channel"),
    )
    assert question_text(activity) == expected


async def test_an_invoke_with_no_value_gets_a_400_card_error(services: Services) -> None:
    adapter = adapter_for(services)
    await adapter.receive_activity(Activity(type=ActivityTypes.invoke, name="adaptiveCard/action", value=None))
    reply = adapter.get_next_activity()
    assert reply.type == "invokeResponse" and reply.value.body["statusCode"] == 400


async def test_a_failing_query_engine_still_gets_the_same_apology_as_on_slack(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.teams.questions

    async def broken(*_args: Any) -> None:
        raise RuntimeError("the stats query broke")

    monkeypatch.setattr(bot.teams.questions, "answer", broken)
    adapter = adapter_for(services)
    await adapter.receive_activity(Activity(type=ActivityTypes.message, text="stats"))
    reply = adapter.get_next_activity()
    assert reply is not None
    shown = str(card_of(reply))
    assert "Sorry, I couldn't answer that just now." in shown and "the stats query broke" not in shown
    assert "for what I can do" in shown and "/baton help" not in shown  # Teams has no slash command
