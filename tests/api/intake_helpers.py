"""Helpers for the intake API tests: raw posts, row counts and a snapshot of what intake wrote."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from store.db import Database
from store.models import Activity, AuditEvent, Handoff, Lead, OutboxMessage, Timer

WRITTEN = (Lead, Activity, Handoff, OutboxMessage, AuditEvent, Timer)
JSON = {"Content-Type": "application/json"}


async def count(db: Database, model: Any) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def counts(db: Database) -> dict[str, int]:
    """Rows in every table intake writes, read in one statement."""
    query = select(*(select(func.count()).select_from(model).scalar_subquery() for model in WRITTEN))
    async with db.read() as session:
        row = (await session.execute(query)).one()
    return {model.__name__: int(n) for model, n in zip(WRITTEN, row, strict=True)}


async def assert_nothing_written(db: Database) -> None:
    assert await counts(db) == dict.fromkeys((m.__name__ for m in WRITTEN), 0)


async def post_raw(api: Any, path: str, body: str | bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """POST ``body`` exactly as given; the answer's status and JSON body."""
    data = body.encode() if isinstance(body, str) else body
    response = await api.post(path, data=data, headers=headers)
    return response.status, json.loads(await response.text())


def fields(answer: dict[str, Any]) -> dict[str, str]:
    """The problems of an error answer, by field."""
    return {p["field"]: p["message"] for p in answer.get("problems", [])}


async def snapshot(db: Database) -> dict[str, Any]:
    """What intake wrote, row by row, without the ids and times that would differ anyway."""
    async with db.transaction() as session:
        leads = (
            await session.execute(
                select(Lead.external_id, Lead.score, Lead.stage, Lead.data, Lead.owner).order_by(Lead.external_id)
            )
        ).all()
        activities = (
            await session.execute(
                select(Activity.lead_id, Activity.key, Activity.type, Activity.occurred_at).order_by(
                    Activity.lead_id, Activity.key
                )
            )
        ).all()
        handoffs = (
            await session.execute(select(Handoff.lead_id, Handoff.rep, Handoff.state).order_by(Handoff.id))
        ).all()
        audit = (await session.execute(select(AuditEvent.lead_id, AuditEvent.action).order_by(AuditEvent.id))).all()
        outbox = (
            await session.execute(select(OutboxMessage.kind, OutboxMessage.message_key).order_by(OutboxMessage.id))
        ).all()
        timers = (await session.execute(select(Timer.lead_id, Timer.chain, Timer.step).order_by(Timer.id))).all()
    return {
        "leads": [tuple(r) for r in leads],
        "activities": [tuple(r) for r in activities],
        "handoffs": [tuple(r) for r in handoffs],
        "audit": [tuple(r) for r in audit],
        "outbox": [tuple(r) for r in outbox],
        "timers": [tuple(r) for r in timers],
    }
