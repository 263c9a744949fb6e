"""How a request's leads are committed: together by default, or one transaction each."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.runtime import Runtime
from handlers.clock import ManualClock
from scoring.agreement import Agreement
from store.db import Database
from tests.commits import commits_that
from tests.conftest import auth, make_settings
from tests.factories import lead_payload

LEADS = [lead_payload(external_id=f"tx-{i}", email=f"tx{i}@prospect.example") for i in range(5)]


@pytest.fixture
async def serve(database_url: str, agreement: Agreement, clock: ManualClock, db: Database) -> AsyncIterator[Any]:
    """A client for Baton started with the given settings, and Baton's database."""
    started: list[tuple[Runtime, TestClient[web.Request, web.Application]]] = []

    async def start(**overrides: object) -> tuple[TestClient[web.Request, web.Application], Database]:
        runtime = Runtime(settings=make_settings(database_url, **overrides), agreement=agreement, clock=clock)
        await runtime.prepare()
        client: TestClient[web.Request, web.Application] = TestClient(TestServer(runtime.web_app(), host="127.0.0.1"))
        await client.start_server()
        started.append((runtime, client))
        return client, runtime.db

    yield start
    for runtime, client in started:
        await client.close()
        await runtime.db.dispose()


async def test_a_request_of_leads_commits_together_by_default(serve: Any) -> None:
    client, baton_db = await serve()
    with commits_that(baton_db, "INSERT INTO leads") as storing:
        response = await client.post("/api/leads", json=LEADS, headers=auth())
    assert response.status == 202 and len((await response.json())["results"]) == 5
    assert len(storing) == 1


async def test_an_intake_batch_of_one_commits_every_lead_on_its_own(serve: Any) -> None:
    client, baton_db = await serve(intake_batch=1)
    with commits_that(baton_db, "INSERT INTO leads") as storing:
        response = await client.post("/api/leads", json=LEADS, headers=auth())
    assert response.status == 202 and [r["external_id"] for r in (await response.json())["results"]] == [
        lead["external_id"] for lead in LEADS
    ]
    assert len(storing) == 5
