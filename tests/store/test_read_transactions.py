"""Read-only transactions: answers that only look neither hold up nor wait for writers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import DBAPIError

from store.db import Database
from store.models import AuditEvent

AT = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


async def write_event(db: Database, action: str) -> None:
    async with db.transaction() as session:
        await session.execute(insert(AuditEvent).values(actor="test", action=action, at=AT))


async def test_a_writer_commits_while_a_read_is_open(db: Database) -> None:
    await write_event(db, "before")
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(AuditEvent)) == 1
        # On SQLite a reader that took the write lock at BEGIN would hold this up for the busy timeout.
        await asyncio.wait_for(write_event(db, "during"), timeout=5)
        # The read keeps the snapshot it started with.
        assert await session.scalar(select(func.count()).select_from(AuditEvent)) == 1
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(AuditEvent)) == 2


async def test_a_write_inside_a_read_fails_on_postgresql(db: Database) -> None:
    if not db.is_postgres:
        pytest.skip("PostgreSQL enforces read-only transactions; SQLite relies on review")
    with pytest.raises(DBAPIError, match="read-only"):
        async with db.read() as session:
            await session.execute(insert(AuditEvent).values(actor="test", action="sneaky", at=AT))
