"""Migration 0004 gives stored activities their identity without losing any of them."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Connection

from store.db import Database
from store.migrate import alembic_config, upgrade
from store.types import UTCDateTime

AT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def _downgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, "0004-1")


async def test_existing_activities_get_keys_and_earlier_duplicates_are_kept(db: Database) -> None:
    leads = sa.table(
        "leads",
        *(sa.column(c) for c in ("id", "external_id", "stage", "score", "fast_track")),
        sa.column("data", sa.JSON()),
        sa.column("explanation", sa.JSON()),
        sa.column("created_at", UTCDateTime()),
        sa.column("updated_at", UTCDateTime()),
    )
    activities = sa.table(
        "activities",
        sa.column("id"),
        sa.column("lead_id"),
        sa.column("type"),
        sa.column("occurred_at", UTCDateTime()),
        sa.column("created_at", UTCDateTime()),
    )
    async with db.engine.begin() as connection:
        await connection.run_sync(_downgrade)
        await connection.execute(
            sa.insert(leads).values(
                id=1,
                external_id="old-1",
                stage="captured",
                score=0,
                fast_track=False,
                data={},
                explanation={},
                created_at=AT,
                updated_at=AT,
            )
        )
        await connection.execute(
            sa.insert(activities),
            [
                {"id": n, "lead_id": 1, "type": kind, "occurred_at": AT, "created_at": AT}
                for n, kind in ((1, "webinar_attended"), (2, "webinar_attended"), (3, "blog_visit"))
            ],
        )
    await upgrade(db.engine)
    async with db.engine.connect() as connection:
        keys = (await connection.execute(sa.text("SELECT id, key FROM activities ORDER BY id"))).all()
    assert [tuple(k) for k in keys] == [
        (1, "at:webinar_attended@2026-11-20T15:00:00.000000+00:00"),
        (2, "legacy:2"),
        (3, "at:blog_visit@2026-11-20T15:00:00.000000+00:00"),
    ]
