"""Fixtures shared by the whole suite: a migrated database (SQLite, or PostgreSQL when
BATON_TEST_DATABASE_URL is set), services with a manual clock, and the HTTP app."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from bot.runtime import Runtime
from bot.settings import Settings
from handlers.clock import ManualClock
from handlers.services import Services
from scoring.agreement import Agreement
from store.db import Database
from store.migrate import upgrade
from store.models import Base
from tests.factories import EXAMPLE_CONFIG, make_agreement

PG_URL = os.environ.get("BATON_TEST_DATABASE_URL")
INTAKE_TOKEN = "test-intake-token-not-secret"
# Monday 23 November 2026, 15:00 UTC: 10:00 in New York, 16:00 in Berlin; everyone is at work.
START = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"

    async def migrate() -> None:
        database = Database(f"sqlite+aiosqlite:///{path}")
        await upgrade(database.engine)
        await database.dispose()

    asyncio.run(migrate())
    return path


@pytest.fixture(scope="session")
def pg_migrated() -> Iterator[str | None]:
    if not PG_URL:
        yield None
        return

    async def migrate() -> None:
        database = Database(PG_URL)
        async with database.engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        await upgrade(database.engine)
        await database.dispose()

    asyncio.run(migrate())
    yield PG_URL


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path, pg_migrated: str | None) -> str:
    if pg_migrated:
        return pg_migrated
    path = tmp_path / "baton.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


async def _truncate(database: Database) -> None:
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    async with database.engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    if database.is_postgres:
        await _truncate(database)
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def agreement() -> Agreement:
    return make_agreement()


@pytest.fixture
async def services(db: Database, agreement: Agreement, clock: ManualClock) -> Services:
    from handlers.intake.routing_state import ensure_reps

    svc = Services(db=db, agreement=agreement, clock=clock)
    async with db.transaction() as session:
        await ensure_reps(session, svc)
    return svc


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "config_path": EXAMPLE_CONFIG,
        "database_url": database_url,
        "intake_token": INTAKE_TOKEN,
        # Off unless a test is about it: the other tests count every message a platform receives.
        "welcome": False,
    }
    values.update(overrides)
    return Settings.model_validate(values)


@pytest.fixture
async def runtime(database_url: str, agreement: Agreement, clock: ManualClock, db: Database) -> AsyncIterator[Runtime]:
    rt = Runtime(settings=make_settings(database_url), agreement=agreement, clock=clock)
    await rt.prepare()
    yield rt
    await rt.db.dispose()


@pytest.fixture
async def api(runtime: Runtime) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(runtime.web_app(), host="127.0.0.1"))
    await client.start_server()
    yield client
    await client.close()


def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {INTAKE_TOKEN}"}
