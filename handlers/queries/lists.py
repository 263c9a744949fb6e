"""The lists a digest shows beside its figures: SLA misses, offers still open, acceptance by source."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.queries.figures import Scope, handoff_scope, offered_between
from store.models import Handoff, HandoffState, Lead

LIMIT = 10


@dataclass(frozen=True)
class OfferLine:
    lead_id: int
    name: str
    rep: str | None
    team: str
    state: str
    due_at: datetime | None
    decided_at: datetime | None


@dataclass(frozen=True)
class SourceRow:
    source: str
    campaign: str
    offers: int
    accepted: int
    rejected: int


def _line(lead: Lead, handoff: Handoff) -> OfferLine:
    data = lead.data
    name = " ".join(str(p) for p in (data.get("first_name"), data.get("last_name")) if p)
    if data.get("company"):
        name = f"{name} ({data['company']})" if name else str(data["company"])
    return OfferLine(
        lead.id,
        name or lead.email or lead.external_id,
        handoff.rep or handoff.decided_by,
        handoff.team,
        handoff.state,
        handoff.due_at,
        handoff.decided_at,
    )


def missed_condition(now: datetime) -> ColumnElement[bool]:
    """An offer missed its SLA if accepted late, reassigned, or still open past its deadline."""
    return or_(
        and_(Handoff.state == HandoffState.ACCEPTED, Handoff.due_at.is_not(None), Handoff.decided_at > Handoff.due_at),
        Handoff.state == HandoffState.REASSIGNED,
        and_(Handoff.state == HandoffState.OFFERED, Handoff.due_at < now),
    )


async def sla_misses(
    session: AsyncSession, scope: Scope, start: datetime, end: datetime, now: datetime
) -> tuple[int, list[OfferLine]]:
    conditions = [*offered_between(start, end), *handoff_scope(scope), missed_condition(now)]
    count = int(await session.scalar(select(func.count()).select_from(Handoff).where(*conditions)) or 0)
    rows = (
        await session.execute(
            select(Lead, Handoff)
            .join(Lead, Lead.id == Handoff.lead_id)
            .where(*conditions)
            .order_by(Handoff.offered_at, Handoff.id)
            .limit(LIMIT)
        )
    ).all()
    return count, [_line(lead, handoff) for lead, handoff in rows]


async def still_open(session: AsyncSession, scope: Scope) -> tuple[int, list[OfferLine]]:
    """Offers nobody has accepted yet, right now, soonest deadline first."""
    conditions = [Handoff.state == HandoffState.OFFERED, *handoff_scope(scope)]
    count = int(await session.scalar(select(func.count()).select_from(Handoff).where(*conditions)) or 0)
    rows = (
        await session.execute(
            select(Lead, Handoff)
            .join(Lead, Lead.id == Handoff.lead_id)
            .where(*conditions)
            .order_by(Handoff.due_at, Handoff.id)
            .limit(LIMIT)
        )
    ).all()
    return count, [_line(lead, handoff) for lead, handoff in rows]


async def acceptance_by_source(session: AsyncSession, scope: Scope, start: datetime, end: datetime) -> list[SourceRow]:
    """Offers made in the period by the lead's source and campaign, busiest first."""
    source, campaign = Lead.source, Lead.campaign
    rows = (
        await session.execute(
            select(
                source,
                campaign,
                func.count(),
                func.sum(case((Handoff.state == HandoffState.ACCEPTED, 1), else_=0)),
                func.sum(case((Handoff.state == HandoffState.REJECTED, 1), else_=0)),
            )
            .join(Lead, Lead.id == Handoff.lead_id)
            .where(*offered_between(start, end), *handoff_scope(scope))
            .group_by(source, campaign)
            .order_by(func.count().desc(), source.asc().nulls_last(), campaign.asc().nulls_last())
            .limit(LIMIT)
        )
    ).all()
    return [SourceRow(r[0] or "(none)", r[1] or "(none)", int(r[2]), int(r[3] or 0), int(r[4] or 0)) for r in rows]
