"""Read a period's leads, activities and rejections from the store and replay them (``scoring.simulate``).

Read only: everything happens in one ``db.read()`` transaction (READ ONLY on PostgreSQL).
Leads are read in key-ordered chunks (``id > last ORDER BY id LIMIT n``), each chunk's
activities and rejections with one query each, so memory stays bounded however long the
period is and every chunk is one plain indexed query on both databases.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.queries.periods import Period, parse_period, resolve
from handlers.services import Services
from scoring.agreement import Agreement
from scoring.lead import Activity, LeadData
from scoring.simulate import Replay, SimulationReport, StoredLead
from store.models import Activity as ActivityRow
from store.models import Feedback, Lead

CHUNK = 5000
_BLANK = dict.fromkeys(LeadData.model_fields)
_FIELDS_SET = frozenset(LeadData.model_fields)


def stored_lead_data(data: dict[str, Any]) -> LeadData:
    """A stored lead's fields as the engine sees them. They were validated on the way in, so
    (as intake does) they are not validated again; built directly, as ``model_construct`` would,
    without its per-call default lookups (a third of the replay's reading time)."""
    lead = LeadData.__new__(LeadData)
    values = {**_BLANK, "custom": {}, **data}
    object.__setattr__(lead, "__dict__", values)
    object.__setattr__(lead, "__pydantic_fields_set__", set(data))
    object.__setattr__(lead, "__pydantic_extra__", None)
    object.__setattr__(lead, "__pydantic_private__", None)
    return lead


def period_of(text: str, agreement: Agreement, now: datetime) -> Period:
    """``text`` ("last quarter", "last 30 days"...) in the digest's timezone; raises ``PeriodError``."""
    return resolve(parse_period(text), now, agreement.digest.timezone)


async def stored_leads(
    session: AsyncSession, start: datetime, end: datetime, chunk: int = CHUNK
) -> AsyncIterator[StoredLead]:
    """Leads created before ``end`` and changed since ``start``, with their activities up to
    ``end`` and the rejections recorded in ``[start, end)``."""
    connection = await session.connection()  # Core rows: the ORM's row loading is not needed here
    last = 0
    while True:
        rows = (
            await connection.execute(
                select(Lead.id, Lead.data, Lead.created_at, Lead.qualified_at, Lead.accepted_at, Lead.sql_at)
                .where(Lead.id > last, Lead.created_at < end, Lead.updated_at >= start)
                .order_by(Lead.id)
                .limit(chunk)
            )
        ).all()
        if not rows:
            return
        low, last = rows[0].id, rows[-1].id
        activities: dict[int, list[tuple[Activity, datetime]]] = defaultdict(list)
        result = await connection.execute(
            select(ActivityRow.lead_id, ActivityRow.type, ActivityRow.occurred_at, ActivityRow.created_at).where(
                ActivityRow.lead_id.between(low, last), ActivityRow.created_at < end
            )
        )
        for lead_id, kind, occurred, arrived in result.all():
            activities[lead_id].append((Activity(kind, occurred), arrived))
        rejections: dict[int, list[str]] = defaultdict(list)
        recycled: dict[int, datetime] = {}
        reasons = await connection.execute(
            select(Feedback.lead_id, Feedback.reason, Feedback.outcome, Feedback.created_at).where(
                Feedback.lead_id.between(low, last), Feedback.created_at >= start, Feedback.created_at < end
            )
        )
        for lead_id, reason, outcome, at in reasons.all():
            rejections[lead_id].append(reason)
            if outcome == "recycle" and (lead_id not in recycled or at > recycled[lead_id]):
                recycled[lead_id] = at
        for row in rows:
            yield StoredLead(
                id=row.id,
                data=stored_lead_data(row.data),
                created_at=row.created_at,
                activities=activities.get(row.id, ()),
                qualified_at=row.qualified_at,
                accepted_at=row.accepted_at,
                sql_at=row.sql_at,
                rejections=rejections.get(row.id, ()),
                recycled_at=recycled.get(row.id),
            )


async def simulate(services: Services, draft: Agreement, period: Period, chunk: int = CHUNK) -> SimulationReport:
    """Replay ``period`` under the running agreement and under ``draft``; writes nothing."""
    replay = Replay(services.agreement, draft, period.start, period.end, period.zone, period.label)
    async with services.db.read() as session:
        async for lead in stored_leads(session, period.start, period.end, chunk):
            replay.add(lead)
    return replay.report()
