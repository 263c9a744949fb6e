"""Migrations build the whole schema from empty, on SQLite and PostgreSQL, and are re-runnable."""

from __future__ import annotations

from sqlalchemy import inspect

from store.db import Database
from store.migrate import current_revision, upgrade
from store.models import Base


async def test_an_empty_database_migrates_to_the_models_schema(db: Database) -> None:
    def tables_and_indexes(connection: object) -> tuple[set[str], set[str]]:
        inspector = inspect(connection)
        tables = set(inspector.get_table_names()) - {"alembic_version"}
        indexes = {i["name"] for t in tables for i in inspector.get_indexes(t) if i["name"]}
        return tables, indexes

    async with db.engine.connect() as connection:
        tables, indexes = await connection.run_sync(tables_and_indexes)
    assert tables == set(Base.metadata.tables)
    assert {
        "ix_timers_pending_due",
        "uq_handoffs_open_per_lead",
        "ix_outbox_status_next",
        "ix_leads_qualified_at",
        "ix_handoffs_rep_state",
    } <= indexes


async def test_upgrading_twice_is_harmless(db: Database) -> None:
    await upgrade(db.engine)
    assert await current_revision(db.engine) is not None
