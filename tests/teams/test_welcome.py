"""The welcome on Teams, with install events exactly as Teams sends them: once per install."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import jsonschema
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.runtime import Runtime
from bot.teams.component import TeamsComponent
from scoring.agreement import Agreement
from store.db import Database
from tests.conftest import ManualClock, make_settings
from tests.fakes.bot_connector import Call, FakeConnector
from tests.teams.conftest import (
    BOT_ID,
    SALES_TEAM,
    TENANT,
    activity,
    install_personal,
    install_team,
    installation_update,
    user,
)
from tests.teams.test_flow import post

ALICE, STRANGER = "alice@example.com", "nobody@elsewhere.example"


@pytest.fixture
async def welcoming(
    database_url: str, agreement: Agreement, clock: ManualClock, db: Database
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    settings = make_settings(database_url, teams_enabled=True, welcome=True, pace_teams_tenant="50/1s burst 50")
    rt = Runtime(settings=settings, agreement=agreement, clock=clock)
    rt.add(TeamsComponent(rt.settings, rt.services))
    await rt.prepare()
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(rt.web_app(), host="127.0.0.1"))
    await client.start_server()
    yield client
    await client.close()
    await rt.db.dispose()


def _welcomes(connector: FakeConnector) -> list[Call]:
    return [c for c in connector.of_kind("send", "reply") if "I'm Baton" in str(c.body)]


def _card(call: Call) -> dict[str, Any]:
    (attachment,) = call.body["attachments"]
    content: dict[str, Any] = attachment["content"]
    return content


async def test_a_personal_install_welcomes_the_rep_by_role_once(
    welcoming: Any, connector: FakeConnector, card_validator: jsonschema.protocols.Validator
) -> None:
    await post(welcoming, install_personal(connector, ALICE))
    await post(welcoming, install_personal(connector, ALICE))  # Teams resends; a restart replays
    (sent,) = _welcomes(connector)
    assert "As a rep, you get new leads here" in str(sent.body)
    card_validator.validate(_card(sent))


async def test_a_stranger_installing_is_told_who_can_add_them(welcoming: Any, connector: FakeConnector) -> None:
    await post(welcoming, install_personal(connector, STRANGER))
    (sent,) = _welcomes(connector)
    assert "I don't know you yet" in str(sent.body) and "revops@example.com" in str(sent.body)


async def test_a_team_install_announced_twice_is_welcomed_once_in_general(
    welcoming: Any, connector: FakeConnector
) -> None:
    connector.teams[SALES_TEAM] = [SALES_TEAM]
    await post(welcoming, install_team(connector, ALICE))
    await post(welcoming, installation_update(connector, ALICE, "add"))
    (sent,) = _welcomes(connector)
    assert sent.conversation_id == SALES_TEAM


async def test_an_upgrade_is_not_an_install(welcoming: Any, connector: FakeConnector) -> None:
    await post(welcoming, installation_update(connector, ALICE, "add-upgrade"))
    assert _welcomes(connector) == []


async def test_removing_the_app_and_adding_it_again_welcomes_again(welcoming: Any, connector: FakeConnector) -> None:
    connector.teams[SALES_TEAM] = [SALES_TEAM]
    await post(welcoming, installation_update(connector, ALICE, "add"))
    await post(welcoming, installation_update(connector, ALICE, "remove"))
    await post(welcoming, installation_update(connector, ALICE, "add"))
    assert len(_welcomes(connector)) == 2


async def test_a_group_chat_install_is_welcomed_in_the_chat(welcoming: Any, connector: FakeConnector) -> None:
    chat = "19:group-chat-9@thread.v2"
    body = activity(
        connector,
        "conversationUpdate",
        user(ALICE),
        {"isGroup": True, "id": chat, "conversationType": "groupChat", "tenantId": TENANT},
        membersAdded=[{"id": BOT_ID}],
    )
    await post(welcoming, body)
    (sent,) = _welcomes(connector)
    assert sent.conversation_id == chat and "Nothing is set to be posted here yet" in str(sent.body)


async def test_someone_else_joining_a_conversation_is_not_an_install(welcoming: Any, connector: FakeConnector) -> None:
    body = install_personal(connector, ALICE)
    body["membersAdded"] = [{"id": "29:someone-else"}]
    await post(welcoming, body)
    assert _welcomes(connector) == []
