"""store.rows: append-only rows written set-wise, and new objects inserted without the unit of work."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from store.db import Database
from store.models import AuditEvent, Lead, OutboxMessage
from store.rows import buffer_of, buffered, insert_new

AT = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def event(action: str, lead_id: int | None = None) -> dict[str, object]:
    return {"lead_id": lead_id, "actor": "test", "action": action, "before": None, "after": {"n": 1}, "at": AT}


def outbox_row(dedupe: str) -> dict[str, object]:
    return {
        "platform": "slack",
        "kind": "post",
        "payload": {"op": "post"},
        "message_key": None,
        "dedupe_key": dedupe,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": AT,
        "created_at": AT,
        "last_error": None,
    }


def new_lead(n: int) -> Lead:
    return Lead(
        external_id=f"rows-{n}",
        email=f"rows{n}@prospect.example",
        data={"n": n},
        stage="captured",
        score=n,
        fast_track=False,
        explanation={},
        created_at=AT,
        updated_at=AT,
    )


async def count(db: Database, model: type[AuditEvent] | type[OutboxMessage]) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_buffered_rows_are_written_when_the_block_ends(db: Database) -> None:
    async with db.transaction() as session:
        async with buffered(session) as rows:
            rows.add(AuditEvent, event("a"))
            rows.add(AuditEvent, event("b"))
            assert await session.scalar(select(func.count()).select_from(AuditEvent)) == 0
        actions = (await session.scalars(select(AuditEvent.action).order_by(AuditEvent.id))).all()
    assert actions == ["a", "b"]


async def test_buffered_rows_are_dropped_when_the_block_raises(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as session, buffered(session) as rows:
            rows.add(AuditEvent, event("lost"))
            raise RuntimeError("step failed")
    assert await count(db, AuditEvent) == 0


async def test_a_row_colliding_on_its_dedupe_key_is_skipped_not_an_error(db: Database) -> None:
    async with db.transaction() as session, buffered(session) as rows:
        rows.add(OutboxMessage, outbox_row("slack:once"), skip_conflict_on="dedupe_key")
        rows.add(OutboxMessage, outbox_row("slack:once"), skip_conflict_on="dedupe_key")
    async with db.transaction() as session, buffered(session) as rows:
        rows.add(OutboxMessage, outbox_row("slack:once"), skip_conflict_on="dedupe_key")
    assert await count(db, OutboxMessage) == 1


async def test_deferred_work_sees_the_rows_and_may_queue_more(db: Database) -> None:
    seen: list[int] = []
    handled: list[list[Any]] = []
    async with db.transaction() as session, buffered(session) as rows:

        async def after(items: list[Any]) -> None:
            handled.append(items)
            seen.append(int(await session.scalar(select(func.count()).select_from(AuditEvent)) or 0))
            rows.add(AuditEvent, event("queued by deferred work"))

        rows.add(AuditEvent, event("first"))
        rows.collect("once", after)["a"] = "a"
        rows.collect("once", after)["a"] = "a"  # the same key twice runs once, on the item once
    assert seen == [1] and handled == [["a"]]
    assert await count(db, AuditEvent) == 2


async def test_a_nested_block_shares_the_outer_buffer(db: Database) -> None:
    async with db.transaction() as session, buffered(session) as outer:
        async with buffered(session) as inner:
            assert inner is outer
            inner.add(AuditEvent, event("inner"))
        assert buffer_of(session) is outer
        assert await session.scalar(select(func.count()).select_from(AuditEvent)) == 0
    assert buffer_of(session) is None
    assert await count(db, AuditEvent) == 1


async def test_inserted_objects_get_ids_in_order_and_stay_usable_in_the_session(db: Database) -> None:
    leads = [new_lead(n) for n in range(3)]
    async with db.transaction() as session:
        await insert_new(session, leads)
        assert [lead.id for lead in leads] == sorted(lead.id for lead in leads)
        assert all(lead in session and lead not in session.dirty for lead in leads)
        assert leads[0].owner is None  # a column never set reads as NULL, without a lazy load
        leads[1].score = 99  # later changes are tracked like any loaded object's
    async with db.transaction() as session:
        stored = {lead.external_id: lead.score for lead in (await session.scalars(select(Lead))).all()}
    assert stored == {"rows-0": 0, "rows-1": 99, "rows-2": 2}
