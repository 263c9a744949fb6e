"""Helpers for the timer tests: offers made through intake, a New York wall clock, store reads."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import InstrumentedAttribute

from handlers.clock import ManualClock
from handlers.followup.sla import choose_policy
from handlers.intake.leads import LeadIn, ingest
from handlers.services import Services
from handlers.views.actions import ButtonData
from store.models import AuditEvent, Base, Handoff, HandoffState, Lead, OutboxMessage, Timer, TimerStatus
from tests.factories import lead_payload

NEW_YORK = ZoneInfo("America/New_York")
M = TypeVar("M", bound=Base)


async def offer(services: Services, **fields: Any) -> ButtonData:
    """Ingest a qualifying lead and return the button data of its open offer."""
    (outcome,) = await ingest(services, [LeadIn.model_validate(lead_payload(**fields))])
    assert outcome.offered, outcome
    async with services.db.transaction() as session:
        handoff = (await session.scalars(select(Handoff).where(Handoff.lead_id == outcome.lead_id))).one()
    return ButtonData(lead_id=outcome.lead_id, handoff_id=handoff.id)


def ny(day: int, hh_mm: str, month: int = 11) -> datetime:
    """A New York wall-clock moment in 2026, as aware UTC."""
    hour, minute = (int(p) for p in hh_mm.split(":"))
    return datetime.combine(datetime(2026, month, day).date(), time(hour, minute), tzinfo=NEW_YORK).astimezone(UTC)


def at(clock: ManualClock, hh_mm: str, day: int = 23) -> None:
    """Move the clock to ``hh_mm`` New York time on 23 November (the conftest's Monday)."""
    clock.set(ny(day, hh_mm))


async def rows(
    services: Services, model: type[M], *where: Any, order: InstrumentedAttribute[Any] | None = None
) -> list[M]:
    async with services.db.transaction() as session:
        query = select(model).where(*where)
        return list((await session.scalars(query.order_by(order) if order is not None else query)).all())


async def actions(services: Services) -> list[str]:
    return [e.action for e in await rows(services, AuditEvent, order=AuditEvent.id)]


async def posts(services: Services) -> list[OutboxMessage]:
    """Chat messages posted (not card updates or webhooks), oldest first."""
    return await rows(services, OutboxMessage, OutboxMessage.kind == "post", order=OutboxMessage.id)


async def simulate_acceptance(services: Services, handoff_id: int, by: str = "alice@example.com") -> None:
    """What Accept does to the handoff (state and fence), without its side effects."""
    async with services.db.transaction() as session:
        await session.execute(
            update(Handoff)
            .where(Handoff.id == handoff_id)
            .values(
                state=HandoffState.ACCEPTED, fence=Handoff.fence + 1, decided_by=by, decided_at=services.clock.now()
            )
        )


async def seed_due_offers(services: Services, count: int, rep: str = "alice@example.com") -> None:
    """``count`` open offers to ``rep``, each with its first accept timer due now (bulk rows, no messages)."""
    agreement, now = services.agreement, services.clock.now()
    team = agreement.team("enterprise")
    assert team is not None
    policy = choose_policy(agreement, team, fast_track=False)
    async with services.db.transaction() as session:
        lead_ids = (
            await session.scalars(
                insert(Lead).returning(Lead.id, sort_by_parameter_order=True),
                [
                    {
                        "external_id": f"bulk-{i}",
                        "email": f"bulk{i}@prospect.example",
                        "stage": "mql",
                        "score": 60,
                        "fast_track": False,
                        "data": {"first_name": "Bulk", "last_name": str(i), "company": f"Bulk {i}"},
                        "explanation": {},
                        "team": team.name,
                        "created_at": now,
                        "updated_at": now,
                        "qualified_at": now,
                    }
                    for i in range(count)
                ],
            )
        ).all()
        handoff_ids = (
            await session.scalars(
                insert(Handoff).returning(Handoff.id, sort_by_parameter_order=True),
                [
                    {
                        "lead_id": lead_id,
                        "team": team.name,
                        "rep": rep,
                        "mode": "direct",
                        "state": HandoffState.OFFERED,
                        "fence": 1,
                        "policy": policy,
                        "previous_reps": [],
                        "offered_at": now,
                    }
                    for lead_id in lead_ids
                ],
            )
        ).all()
        await session.execute(
            insert(Timer),
            [
                {
                    "lead_id": lead_id,
                    "handoff_id": handoff_id,
                    "chain": "accept",
                    "step": 0,
                    "fence": 1,
                    "status": TimerStatus.PENDING,
                    "due_at": now,
                }
                for lead_id, handoff_id in zip(lead_ids, handoff_ids, strict=True)
            ],
        )


async def lose_pending_timers(services: Services) -> None:
    """What a bug or a hand-edited database could do: pending timers vanish."""
    async with services.db.transaction() as session:
        await session.execute(delete(Timer).where(Timer.status == "pending"))
