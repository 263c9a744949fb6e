"""The Teams sender against the fake connector: gone conversations, rate limits, missing references."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.runtime import Runtime
from handlers.messaging.outbox import post as enqueue
from handlers.views.notice import Notice
from scoring.agreement import ChannelRef
from store.models import Conversation, OutboxMessage
from tests.fakes.bot_connector import FakeConnector
from tests.teams.conftest import BOT_ID, MANAGERS_CHANNEL, TENANT, activity, install_channel, install_personal, user
from tests.teams.test_flow import post


async def notify(runtime: Runtime, *, person: str | None = None, channel: str | None = None) -> None:
    notice = Notice(title="Escalation: **Ann** <at>everyone</at>", lines=["Offered 31 min ago."])
    async with runtime.db.transaction() as session:
        await enqueue(
            session,
            runtime.services,
            notice,
            to_person=person,
            to_channel=ChannelRef(teams=channel) if channel else None,
        )


async def teams_rows(runtime: Runtime) -> list[OutboxMessage]:
    async with runtime.db.transaction() as session:
        query = select(OutboxMessage).where(OutboxMessage.platform == "teams").order_by(OutboxMessage.id)
        return list((await session.scalars(query)).all())


async def test_lead_text_in_a_notice_is_escaped_for_teams_markdown(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector
) -> None:
    await post(teams, install_channel(connector, MANAGERS_CHANNEL, "morgan.manager@example.com"))
    await notify(teams_runtime, channel=MANAGERS_CHANNEL)
    await teams_runtime.worker.run_once()
    (sent,) = connector.of_kind("send")
    assert sent.card is not None
    assert sent.card["body"][0]["text"] == r"**Escalation: \*\*Ann\*\* \<at\>everyone\</at\>**"


async def test_bot_not_in_roster_marks_the_conversation_gone_and_stops(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector
) -> None:
    await post(teams, install_personal(connector, "morgan.manager@example.com"))
    connector.fail(403, "BotNotInConversationRoster")
    await notify(teams_runtime, person="morgan.manager@example.com")
    await teams_runtime.worker.run_once()
    (row, *_alerts) = await teams_rows(teams_runtime)
    assert row.status == "failed" and "conversation gone" in (row.last_error or "")
    async with teams_runtime.db.transaction() as session:
        assert all((await session.scalars(select(Conversation.gone))).all())
    await notify(teams_runtime, person="morgan.manager@example.com")
    await teams_runtime.worker.run_once()
    assert [c.conversation_id for c in connector.of_kind("send")] == []  # not even attempted there


async def test_a_conversation_gone_alerts_the_managers_channel_once(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector
) -> None:
    await post(teams, install_personal(connector, "morgan.manager@example.com"))
    await post(teams, install_channel(connector, MANAGERS_CHANNEL, "morgan.manager@example.com"))
    connector.fail(403, "BotNotInConversationRoster")
    await notify(teams_runtime, person="morgan.manager@example.com")
    await teams_runtime.worker.run_once()
    await teams_runtime.worker.run_once()
    (alert,) = connector.of_kind("send")
    assert alert.conversation_id == MANAGERS_CHANNEL and "removed from a Teams conversation" in str(alert.card)
    assert "morgan.manager@example.com" in str(alert.card)


async def test_a_reinstall_clears_gone(teams: Any, teams_runtime: Runtime, connector: FakeConnector) -> None:
    await post(teams, install_personal(connector, "morgan.manager@example.com"))
    removed = install_personal(connector, "morgan.manager@example.com")
    removed.pop("membersAdded")
    removed["membersRemoved"] = [{"id": BOT_ID}]
    await post(teams, removed)
    async with teams_runtime.db.transaction() as session:
        assert all((await session.scalars(select(Conversation.gone))).all())
    await post(teams, install_personal(connector, "morgan.manager@example.com"))
    async with teams_runtime.db.transaction() as session:
        assert not any((await session.scalars(select(Conversation.gone))).all())


async def test_429_is_retried_after_retry_after_and_then_delivered(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector, clock: Any
) -> None:
    await post(teams, install_personal(connector, "morgan.manager@example.com"))
    connector.fail(429, "TooManyRequests", retry_after="7")
    await notify(teams_runtime, person="morgan.manager@example.com")
    await teams_runtime.worker.run_once()
    (row,) = await teams_rows(teams_runtime)
    assert row.status == "pending" and (row.next_attempt_at - clock.now()).total_seconds() == 7
    clock.advance(timedelta(seconds=7))
    await teams_runtime.worker.run_once()
    (row,) = await teams_rows(teams_runtime)
    assert row.status == "sent" and len(connector.of_kind("send")) == 1


async def test_502_is_retried_with_backoff(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector, clock: Any
) -> None:
    await post(teams, install_personal(connector, "morgan.manager@example.com"))
    connector.fail(502, "BadGateway")
    await notify(teams_runtime, person="morgan.manager@example.com")
    await teams_runtime.worker.run_once()
    (row,) = await teams_rows(teams_runtime)
    assert row.status == "pending" and row.next_attempt_at > clock.now() and "502" in (row.last_error or "")


async def test_a_person_who_never_installed_the_app_waits_with_a_clear_reason(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector
) -> None:
    await notify(teams_runtime, person="bob@example.com")
    await teams_runtime.worker.run_once()
    (row,) = await teams_rows(teams_runtime)
    assert row.status == "pending" and "has not installed the Baton app" in (row.last_error or "")


async def test_a_known_aad_user_gets_a_new_chat_through_the_tenants_service_url(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector
) -> None:
    await post(teams, install_channel(connector, MANAGERS_CHANNEL, "morgan.manager@example.com"))
    await notify(teams_runtime, person="bob@example.com")
    await teams_runtime.worker.run_once()
    (created,) = connector.of_kind("create")
    assert created.body["members"][0]["id"] == "aad-bob"
    assert created.body["channelData"]["tenant"]["id"] == TENANT
    (sent,) = connector.of_kind("send")
    assert sent.conversation_id == created.response_id
    async with teams_runtime.db.transaction() as session:
        keys = set((await session.scalars(select(Conversation.key))).all())
    assert {"aad-bob", "bob@example.com", created.response_id} <= keys


async def test_a_message_from_an_unknown_channel_member_is_still_remembered(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector
) -> None:
    body = activity(
        connector,
        "conversationUpdate",
        user("nobody@example.com"),
        {"id": "19:new@thread.tacv2", "conversationType": "channel"},
        membersAdded=[{"id": BOT_ID}],
    )
    body["channelData"]["channel"] = {"id": "19:new@thread.tacv2"}
    await post(teams, body)
    async with teams_runtime.db.transaction() as session:
        row = await session.get(Conversation, ("teams", "19:new@thread.tacv2"))
    assert row is not None and row.kind == "channel"
