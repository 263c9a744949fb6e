"""Every answer that only looks reads in ``db.read()``: it answers while another connection writes.

On SQLite a transaction begun for writing takes the one write lock at BEGIN and, while another
connection (a CLI command, a second process) holds it, waits out the 10 s busy timeout and then
fails. Each read path below runs while a writer holds the lock and must answer at once; the
timeout only turns a wrong answer (waiting for the lock) into a quick failure instead of a hang.
On PostgreSQL the writer holds an EXCLUSIVE lock on the tables, which plain reads pass.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.cli import outbox_cmd
from bot.metrics import Metrics
from bot.teams import references
from bot.teams.current import current_card
from handlers.followup import timers
from handlers.messaging.scopes import PauseChecks
from handlers.queries.lead_lookup import answer_lead
from handlers.queries.roles import Viewer
from handlers.services import Services
from handlers.views.actions import ButtonData
from store.db import Database
from tests.conftest import START, make_settings

T = TypeVar("T")
# Far below the 10 s busy timeout a read that wrongly begins IMMEDIATE would wait for.
PATIENCE = 5.0
TABLES = (
    "outbox",
    "delivery_scopes",
    "conversations",
    "leads",
    "handoffs",
    "audit_events",
    "timers",
    "alembic_version",
)


@asynccontextmanager
async def another_writer(db: Database) -> AsyncIterator[None]:
    """Another connection in the middle of a write transaction for as long as the block runs."""
    if db.is_postgres:
        async with db.engine.connect() as connection:
            await connection.execute(text(f"LOCK TABLE {', '.join(TABLES)} IN EXCLUSIVE MODE"))
            yield
            await connection.rollback()
        return
    path = make_url(db.url).database
    assert path
    writer = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO delivery_scopes (scope, tats, updated_at) VALUES ('held', '[]', '2026-11-23')")
        yield
        writer.execute("ROLLBACK")
    finally:
        writer.close()


async def while_writing(db: Database, read: Awaitable[T]) -> T:
    async with another_writer(db):
        return await asyncio.wait_for(read, PATIENCE)


async def test_the_metrics_scrape_answers_while_another_connection_writes(db: Database) -> None:
    metrics = Metrics()
    await while_writing(db, metrics.refresh_outbox(db, START))
    assert b"baton_outbox_oldest_pending_seconds 0.0" in metrics.exposition()


async def test_a_lead_lookup_answers_while_another_connection_writes(services: Services) -> None:
    viewer = Viewer.of(services.agreement, "admin@example.com")
    notice = await while_writing(services.db, answer_lead(services, "nobody@example.com", viewer))
    assert "can't find" in notice.title


async def test_the_pause_check_before_a_send_answers_while_another_connection_writes(db: Database) -> None:
    assert await while_writing(db, PauseChecks(db).paused_until(["slack"], START)) is None


async def test_teams_reference_lookups_answer_while_another_connection_writes(services: Services) -> None:
    assert await while_writing(services.db, references.find(services, "someone@example.com")) is None
    assert await while_writing(services.db, references.any_in_tenant(services, "tenant")) is None


async def test_a_teams_card_refresh_answers_while_another_connection_writes(services: Services) -> None:
    assert await while_writing(services.db, current_card(services, ButtonData(lead_id=1, handoff_id=1))) is None


async def test_the_safety_net_scan_answers_while_another_connection_writes(services: Services) -> None:
    assert await while_writing(services.db, timers.repair(services)) == 0


async def test_outbox_list_answers_while_another_connection_writes(db: Database, database_url: str) -> None:
    rows = await while_writing(db, outbox_cmd._list(make_settings(database_url), None, None, 10))
    assert rows == []


async def test_readiness_answers_while_another_connection_writes(
    db: Database, api: TestClient[web.Request, web.Application]
) -> None:
    async def ready() -> dict[str, Any]:
        response = await api.get("/readyz")
        body: dict[str, Any] = await response.json()
        return body

    body = await while_writing(db, ready())
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["migrations"] == "ok"
