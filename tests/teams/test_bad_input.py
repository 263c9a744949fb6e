"""Bad input changes nothing: unsigned requests, forged or missing card data, people not allowed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.runtime import Runtime
from bot.settings import ConfigError
from bot.teams.adapter import check_settings
from bot.teams.component import TeamsComponent
from handlers.clock import ManualClock
from scoring.agreement import Agreement
from store.db import Database
from store.models import AuditEvent, Conversation, Handoff
from tests.conftest import make_settings
from tests.fakes.bot_connector import FakeConnector
from tests.teams.conftest import card_action, install_personal, message
from tests.teams.test_flow import button_value, offered_card, post

APP_ID = "11111111-2222-3333-4444-555555555555"


@pytest.fixture
async def signed_only(
    database_url: str, agreement: Agreement, clock: ManualClock, db: Database
) -> AsyncIterator[tuple[Runtime, TestClient[web.Request, web.Application]]]:
    settings = make_settings(
        database_url, teams_enabled=True, microsoft_app_id=APP_ID, microsoft_app_password="not-a-real-secret"
    )
    runtime = Runtime(settings=settings, agreement=agreement, clock=clock)
    runtime.add(TeamsComponent(settings, runtime.services))
    await runtime.prepare()
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(runtime.web_app(), host="127.0.0.1"))
    await client.start_server()
    yield runtime, client
    await client.close()
    await runtime.db.dispose()


async def conversations(runtime: Runtime) -> int:
    async with runtime.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(Conversation)) or 0)


async def test_with_an_app_id_a_request_without_a_token_gets_401_and_changes_nothing(
    signed_only: tuple[Runtime, Any], connector: FakeConnector
) -> None:
    runtime, client = signed_only
    response = await client.post("/api/messages", json=install_personal(connector, "alice@example.com"))
    assert response.status == 401 and "token" in (await response.json())["error"]
    assert await conversations(runtime) == 0 and connector.calls == []


async def test_with_an_app_id_a_malformed_token_gets_401(
    signed_only: tuple[Runtime, Any], connector: FakeConnector
) -> None:
    runtime, client = signed_only
    response = await client.post(
        "/api/messages",
        json=message(connector, "alice@example.com", "help"),
        headers={"Authorization": "Bearer not-a-jwt"},
    )
    assert response.status == 401 and await conversations(runtime) == 0


def test_unauthenticated_mode_is_refused_off_loopback(database_url: str) -> None:
    with pytest.raises(ConfigError) as error:
        check_settings(make_settings(database_url, teams_enabled=True, host="0.0.0.0"))
    assert "MICROSOFT_APP_ID" in str(error.value) and "loopback" in str(error.value)


def test_single_tenant_needs_a_tenant_id(database_url: str) -> None:
    with pytest.raises(ConfigError, match="MICROSOFT_APP_TENANT_ID"):
        check_settings(
            make_settings(
                database_url, microsoft_app_id=APP_ID, microsoft_app_password="x", microsoft_app_type="SingleTenant"
            )
        )


async def test_a_body_that_is_not_an_activity_gets_400(teams: Any) -> None:
    response = await teams.post("/api/messages", json={"hello": "world"})
    assert response.status == 400 and "activity" in (await response.json())["error"]


async def test_forged_button_data_gets_a_card_level_error_and_changes_nothing(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector
) -> None:
    await post(teams, install_personal(connector, "alice@example.com"))
    await offered_card(teams, teams_runtime, connector)
    for value in ("v1:1:1;DROP", "<at>x</at>", None):
        body = await (await post(teams, card_action(connector, "alice@example.com", "accept", value))).json()
        assert body["statusCode"] == 400 and body["type"] == "application/vnd.microsoft.error"
    async with teams_runtime.db.transaction() as session:
        assert await session.scalar(select(Handoff.state)) == "offered"


async def test_an_unknown_verb_or_action_type_is_refused(teams: Any, connector: FakeConnector) -> None:
    bad = card_action(connector, "alice@example.com", "drop_tables", "v1:1:1")
    assert (await (await post(teams, bad)).json())["statusCode"] == 400
    submit = card_action(connector, "alice@example.com", "accept", "v1:1:1")
    submit["value"]["action"]["type"] = "Action.Submit"
    assert (await (await post(teams, submit)).json())["statusCode"] == 400


async def test_another_rep_cannot_accept_a_direct_offer(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector
) -> None:
    await post(teams, install_personal(connector, "alice@example.com"))
    card = await offered_card(teams, teams_runtime, connector)
    body = await (
        await post(teams, card_action(connector, "bob@example.com", "accept", button_value(card, "accept")))
    ).json()
    assert body["type"] == "application/vnd.microsoft.activity.message"
    assert "only they can accept" in body["value"]
    async with teams_runtime.db.transaction() as session:
        assert await session.scalar(select(Handoff.state)) == "offered"
        assert (
            await session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "lead.accepted")
            )
            == 0
        )


async def test_a_teams_user_outside_the_agreement_is_told_politely(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector
) -> None:
    await post(teams, install_personal(connector, "alice@example.com"))
    card = await offered_card(teams, teams_runtime, connector)
    body = await (
        await post(teams, card_action(connector, "stranger@example.com", "accept", button_value(card, "accept")))
    ).json()
    assert "not in Baton's configuration" in body["value"]
    async with teams_runtime.db.transaction() as session:
        assert await session.scalar(select(Handoff.state)) == "offered"


async def test_an_invoke_baton_does_not_handle_gets_400_not_501(teams: Any, connector: FakeConnector) -> None:
    body = card_action(connector, "alice@example.com", "accept", "v1:1:1")
    body["name"] = "composeExtension/query"
    response = await teams.post("/api/messages", json=body)
    assert response.status == 400 and "adaptiveCard/action" in (await response.json())["error"]
