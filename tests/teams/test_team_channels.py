"""Any channel of a team Baton is installed in, with only the install event (in General) seen."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.runtime import Runtime
from store.models import Conversation
from tests.fakes.bot_connector import FakeConnector
from tests.teams.conftest import (
    BOT_ID,
    EMEA_CHANNEL,
    SALES_TEAM,
    TENANT,
    activity,
    install_team,
    installation_update,
    team_event,
    user,
)
from tests.teams.test_flow import offered_card, post
from tests.teams.test_sender import notify, teams_rows

CLARA = "clara@example.com"


async def test_a_lead_channel_that_is_not_general_gets_its_card_with_only_the_team_install_seen(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector
) -> None:
    connector.teams[SALES_TEAM] = [SALES_TEAM, EMEA_CHANNEL]
    await post(teams, install_team(connector, CLARA))
    await offered_card(teams, teams_runtime, connector, country="DE")
    (sent,) = connector.of_kind("send")
    assert sent.conversation_id == EMEA_CHANNEL
    assert [c.conversation_id for c in connector.of_kind("channels")] == [SALES_TEAM]
    async with teams_runtime.db.transaction() as session:
        row = await session.get(Conversation, ("teams", EMEA_CHANNEL))
    assert row is not None and row.kind == "channel" and row.reference["team_id"] == SALES_TEAM  # next time a lookup


async def test_an_installation_update_alone_is_enough(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector
) -> None:
    connector.teams[SALES_TEAM] = [SALES_TEAM, EMEA_CHANNEL]
    await post(teams, installation_update(connector, CLARA, "add"))
    await notify(teams_runtime, channel=EMEA_CHANNEL)
    await teams_runtime.worker.run_once()
    assert [c.conversation_id for c in connector.of_kind("send")] == [EMEA_CHANNEL]


async def test_a_channel_in_no_installed_team_waits_with_a_reason(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector
) -> None:
    connector.teams[SALES_TEAM] = [SALES_TEAM]
    await post(teams, install_team(connector, CLARA))
    await notify(teams_runtime, channel=EMEA_CHANNEL)
    await teams_runtime.worker.run_once()
    (row,) = await teams_rows(teams_runtime)
    assert connector.of_kind("send") == []
    assert row.status == "pending" and "add the app to that team" in (row.last_error or "")


async def test_a_renamed_channel_keeps_receiving(teams: Any, teams_runtime: Runtime, connector: FakeConnector) -> None:
    connector.teams[SALES_TEAM] = [SALES_TEAM, EMEA_CHANNEL]
    await post(teams, install_team(connector, CLARA))
    renamed = team_event(connector, "conversationUpdate", CLARA)
    renamed["channelData"].update({"eventType": "channelRenamed", "channel": {"id": EMEA_CHANNEL, "name": "EMEA"}})
    await post(teams, renamed)
    await notify(teams_runtime, channel=EMEA_CHANNEL)
    await teams_runtime.worker.run_once()
    # The rename event came in General's conversation: the post still goes to the channel itself.
    assert [c.conversation_id for c in connector.of_kind("send")] == [EMEA_CHANNEL]
    assert connector.of_kind("channels") == []


async def test_uninstall_from_the_team_silences_every_channel_and_a_reinstall_restores_them(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector
) -> None:
    connector.teams[SALES_TEAM] = [SALES_TEAM, EMEA_CHANNEL]
    await post(teams, install_team(connector, CLARA))
    await notify(teams_runtime, channel=EMEA_CHANNEL)
    await teams_runtime.worker.run_once()
    await post(teams, installation_update(connector, CLARA, "remove"))
    async with teams_runtime.db.transaction() as session:
        gone = {key: flag for key, flag in (await session.execute(select(Conversation.key, Conversation.gone))).all()}
    assert gone[EMEA_CHANNEL] and gone[SALES_TEAM] and gone[f"team:{SALES_TEAM}"]
    await post(teams, installation_update(connector, CLARA, "add"))
    async with teams_runtime.db.transaction() as session:
        assert not any((await session.scalars(select(Conversation.gone))).all())


async def test_a_version_upgrade_does_not_uninstall(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector
) -> None:
    connector.teams[SALES_TEAM] = [SALES_TEAM, EMEA_CHANNEL]
    await post(teams, install_team(connector, CLARA))
    await post(teams, installation_update(connector, CLARA, "remove-upgrade"))
    await notify(teams_runtime, channel=EMEA_CHANNEL)
    await teams_runtime.worker.run_once()
    assert [c.conversation_id for c in connector.of_kind("send")] == [EMEA_CHANNEL]


async def test_a_group_chat_install_is_reachable_by_its_conversation_id(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector
) -> None:
    chat = "19:group-chat-1@thread.v2"
    body = activity(
        connector,
        "conversationUpdate",
        user(CLARA),
        {"isGroup": True, "id": chat, "conversationType": "groupChat", "tenantId": TENANT},
        membersAdded=[{"id": BOT_ID}],
    )
    await post(teams, body)
    await notify(teams_runtime, channel=chat)
    await teams_runtime.worker.run_once()
    assert [c.conversation_id for c in connector.of_kind("send")] == [chat]
