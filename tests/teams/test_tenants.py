"""A Teams activity from a tenant Baton does not serve gets 403 and changes nothing; one with
no usable serviceUrl gets 400 before any outbound call (not even the key fetch)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.runtime import Runtime
from bot.settings import ConfigError, load_settings
from bot.teams.adapter import check_settings
from bot.teams.component import TeamsComponent
from bot.teams.gate import allowed_tenants, pacing_tenant
from handlers.clock import ManualClock
from handlers.messaging.ports import Delivery
from scoring.agreement import Agreement
from store.db import Database
from store.models import Conversation, Handoff
from tests.conftest import make_settings
from tests.fakes.bot_connector import FakeConnector
from tests.teams.conftest import TENANT, card_action, install_personal, message
from tests.teams.signing import APP_ID, Jwks, bearer, claims, mint, signed_teams
from tests.teams.test_flow import button_value, offered_card, post

OTHER = "tenant-9999-not-ours"


def from_tenant(body: dict[str, Any], tenant: str | None, channel_tenant: str | None = "same") -> dict[str, Any]:
    body = dict(body)
    conversation = {k: v for k, v in body["conversation"].items() if k != "tenantId"}
    if tenant is not None:
        conversation["tenantId"] = tenant
    body["conversation"] = conversation
    channel = tenant if channel_tenant == "same" else channel_tenant
    body["channelData"] = {"tenant": {"id": channel}} if channel is not None else {}
    return body


async def count(runtime: Runtime, model: Any) -> int:
    async with runtime.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
async def restricted(
    database_url: str, agreement: Agreement, clock: ManualClock, db: Database
) -> AsyncIterator[tuple[Runtime, TestClient[web.Request, web.Application]]]:
    """The Emulator's unauthenticated mode, serving only ``TENANT``."""
    runtime = Runtime(
        settings=make_settings(database_url, teams_enabled=True, teams_allowed_tenants=TENANT),
        agreement=agreement,
        clock=clock,
    )
    runtime.add(TeamsComponent(runtime.settings, runtime.services))
    await runtime.prepare()
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(runtime.web_app(), host="127.0.0.1"))
    await client.start_server()
    yield runtime, client
    await client.close()
    await runtime.db.dispose()


async def test_an_install_from_another_tenant_gets_403_and_stores_nothing(
    restricted: tuple[Runtime, Any], connector: FakeConnector
) -> None:
    runtime, client = restricted
    response = await client.post(
        "/api/messages", json=from_tenant(install_personal(connector, "alice@example.com"), OTHER)
    )
    assert response.status == 403 and "tenant" in (await response.json())["error"]
    assert await count(runtime, Conversation) == 0 and connector.calls == []


async def test_a_click_from_another_tenant_does_not_accept_the_lead(
    restricted: tuple[Runtime, Any], connector: FakeConnector
) -> None:
    runtime, client = restricted
    await post(client, install_personal(connector, "alice@example.com"))
    card = await offered_card(client, runtime, connector)
    sent = len(connector.calls)
    click = from_tenant(card_action(connector, "alice@example.com", "accept", button_value(card, "accept")), OTHER)
    response = await client.post("/api/messages", json=click)
    assert response.status == 403
    async with runtime.db.transaction() as session:
        assert await session.scalar(select(Handoff.state)) == "offered"
    assert len(connector.calls) == sent


async def test_an_activity_naming_no_tenant_gets_403_when_tenants_are_restricted(
    restricted: tuple[Runtime, Any], connector: FakeConnector
) -> None:
    runtime, client = restricted
    response = await client.post(
        "/api/messages", json=from_tenant(message(connector, "alice@example.com", "help"), None)
    )
    assert response.status == 403 and await count(runtime, Conversation) == 0


async def test_an_activity_whose_two_tenant_ids_disagree_gets_400(
    restricted: tuple[Runtime, Any], connector: FakeConnector
) -> None:
    runtime, client = restricted
    body = from_tenant(message(connector, "alice@example.com", "help"), TENANT, channel_tenant=OTHER)
    response = await client.post("/api/messages", json=body)
    assert response.status == 400 and "different tenants" in (await response.json())["error"]


async def test_a_tenant_id_of_the_wrong_type_gets_400(
    restricted: tuple[Runtime, Any], connector: FakeConnector
) -> None:
    runtime, client = restricted
    body = message(connector, "alice@example.com", "help")
    body["conversation"]["tenantId"] = {"id": TENANT}
    response = await client.post("/api/messages", json=body)
    assert response.status == 400 and "conversation.tenantId" in (await response.json())["error"]


async def test_the_allowed_tenant_is_matched_whatever_its_case(
    restricted: tuple[Runtime, Any], connector: FakeConnector
) -> None:
    runtime, client = restricted
    await post(client, from_tenant(install_personal(connector, "alice@example.com"), TENANT.upper()))
    assert await count(runtime, Conversation) > 0


async def test_a_single_tenant_bot_refuses_a_signed_activity_from_another_tenant(
    database_url: str,
    agreement: Agreement,
    clock: ManualClock,
    db: Database,
    jwks: Jwks,
    connector: FakeConnector,
    signing_key: Any,
) -> None:
    async with signed_teams(
        database_url, agreement, clock, jwks, microsoft_app_type="SingleTenant", microsoft_app_tenant_id=TENANT
    ) as signed:
        token = bearer(mint(signing_key, claims(connector.url)))
        other = from_tenant(install_personal(connector, "alice@example.com"), OTHER)
        assert (await signed.client.post("/api/messages", json=other, headers=token)).status == 403
        assert await count(signed.runtime, Conversation) == 0
        ours = install_personal(connector, "alice@example.com")
        assert (await signed.client.post("/api/messages", json=ours, headers=token)).status == 201


async def test_an_unsigned_activity_from_another_tenant_gets_401_not_403(signed: Any, connector: FakeConnector) -> None:
    # Tenants are checked after the token, so an unauthenticated caller learns nothing about them.
    response = await signed.client.post(
        "/api/messages",
        json=from_tenant(install_personal(connector, "alice@example.com"), OTHER),
        headers=bearer("a.b.c"),
    )
    assert response.status == 401


def test_a_multi_tenant_bot_defaults_to_its_own_tenant_when_one_is_set(database_url: str) -> None:
    settings = make_settings(database_url, microsoft_app_id=APP_ID, microsoft_app_tenant_id="Tenant-A")
    assert allowed_tenants(settings) == frozenset({"tenant-a"})


def test_a_multi_tenant_bot_without_a_tenant_serves_any_tenant(database_url: str) -> None:
    assert allowed_tenants(make_settings(database_url, microsoft_app_id=APP_ID)) is None


def test_a_star_serves_any_tenant_even_with_a_tenant_id_set(database_url: str) -> None:
    settings = make_settings(database_url, microsoft_app_tenant_id="tenant-a", teams_allowed_tenants="*")
    assert allowed_tenants(settings) is None


def test_the_allowed_tenants_are_read_comma_separated_from_the_environment(tmp_path: Any) -> None:
    settings = load_settings(tmp_path / "baton.toml", {"BATON_TEAMS_ALLOWED_TENANTS": " tenant-a, Tenant-B ,,"})
    assert settings.teams_allowed_tenants == ("tenant-a", "Tenant-B")
    assert allowed_tenants(settings) == frozenset({"tenant-a", "tenant-b"})


def test_a_single_tenant_bot_cannot_list_other_tenants(database_url: str) -> None:
    with pytest.raises(ConfigError, match="BATON_TEAMS_ALLOWED_TENANTS"):
        check_settings(
            make_settings(
                database_url,
                microsoft_app_id=APP_ID,
                microsoft_app_password="x",
                microsoft_app_type="SingleTenant",
                microsoft_app_tenant_id="tenant-a",
                teams_allowed_tenants="tenant-a,tenant-b",
            )
        )


@pytest.mark.parametrize(
    "service_url",
    [
        None,
        "",
        42,
        "not a url",
        "javascript:alert(1)",
        "https://",
        "http://evil.example/",
        "ftp://127.0.0.1/",
        "https://user:pw@host.example/",
        "http://[::1",
        "https://" + "a" * 3000 + ".example/",
    ],
)
async def test_an_activity_without_a_usable_service_url_gets_400_before_any_outbound_call(
    signed: Any, connector: FakeConnector, jwks: Jwks, signing_key: Any, service_url: Any
) -> None:
    body = install_personal(connector, "alice@example.com")
    if service_url is None:
        del body["serviceUrl"]
    else:
        body["serviceUrl"] = service_url
    token = bearer(mint(signing_key, claims(connector.url)))
    response = await signed.client.post("/api/messages", json=body, headers=token)
    assert response.status == 400 and "serviceUrl" in (await response.json())["error"]
    assert jwks.requests == [] and connector.calls == []
    assert await count(signed.runtime, Conversation) == 0


async def test_an_emulator_activity_without_a_service_url_gets_400(teams: Any, connector: FakeConnector) -> None:
    body = message(connector, "alice@example.com", "help")
    del body["serviceUrl"]
    response = await teams.post("/api/messages", json=body)
    assert response.status == 400 and connector.calls == []


def _teams_delivery() -> Delivery:
    return Delivery(id=1, op="post", payload={"channel": "19:abc@thread.tacv2", "view": {}}, key=None)


async def test_the_sender_paces_against_the_tenant_baton_serves(restricted: tuple[Runtime, Any]) -> None:
    runtime, _ = restricted
    component = TeamsComponent(runtime.settings, runtime.services)
    assert component.sender.pacing_scopes(_teams_delivery()) == (
        "teams:conversation:19:abc@thread.tacv2",
        f"teams:tenant:{TENANT}",
    )


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"microsoft_app_tenant_id": "Tenant-AAAA"}, "tenant-aaaa"),
        ({"teams_allowed_tenants": "tenant-bbbb"}, "tenant-bbbb"),
        ({"microsoft_app_tenant_id": "tenant-aaaa", "teams_allowed_tenants": "tenant-aaaa,tenant-bbbb"}, None),
        ({"teams_allowed_tenants": "*"}, None),
        ({}, None),
    ],
)
def test_the_pacing_tenant_is_the_one_tenant_served_else_one_shared_bucket(
    database_url: str, overrides: dict[str, object], expected: str | None
) -> None:
    settings = make_settings(database_url, teams_enabled=True, **overrides)
    assert pacing_tenant(settings) == expected
