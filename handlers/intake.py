"""Lead intake: score, store, qualify and (when qualified) route and offer, one transaction per lead.

The same lead twice updates it and never duplicates it or its offer: a lead is
identified by the CRM's ``external_id`` and deduplicated by email.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from handlers import events, routing_state
from handlers.offer import make_offer
from handlers.services import Services
from scoring.agreement import Agreement, Stage
from scoring.lead import Activity, LeadData
from scoring.route import route
from scoring.score import ScoreResult, score
from store.models import Activity as ActivityRow
from store.models import Lead

MAX_BATCH = 1000
CHUNK = 100  # leads committed together by one intake request
# A lead in one of these stages may (re)qualify and be offered; later stages belong to sales.
_MAY_QUALIFY = {Stage.CAPTURED, Stage.RECYCLED}


class ActivityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=64)
    occurred_at: datetime | None = None


class LeadIn(LeadData):
    """A lead as the intake API takes it: the lead's fields plus behaviour events so far."""

    activities: list[ActivityIn] = Field(default_factory=list, max_length=1000)


class UnknownEventTypes(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class IntakeOutcome:
    external_id: str
    lead_id: int
    status: Literal["created", "updated", "unchanged"]
    score: int
    stage: str
    qualified: bool
    offered: bool
    routing: dict[str, Any] | None = None
    not_qualified: list[str] = field(default_factory=list)
    duplicate_of: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


def check_event_types(agreement: Agreement, items: Sequence[tuple[str, str]]) -> None:
    """``items`` is (path, type) pairs; raises naming every unknown type by its path."""
    known = agreement.scoring.implicit.event_types
    problems = [f"{path}: unknown event type {kind!r} (known: {', '.join(sorted(known))})"
                for path, kind in items if kind not in known]
    if problems:
        raise UnknownEventTypes(problems)


def explanation_record(result: ScoreResult) -> dict[str, Any]:
    return {
        "total": result.total, "explicit": result.explicit, "implicit": result.implicit,
        "threshold": result.threshold,
        "lines": [dataclasses.asdict(line) for line in result.lines],
        "disqualifiers": list(result.disqualifiers), "missing_fields": list(result.missing_fields),
        "fast_track_events": list(result.fast_track_events),
    }


async def ingest(services: Services, leads: Sequence[LeadIn], actor: str = "intake") -> list[IntakeOutcome]:
    """Ingest leads; each lead's changes and the messages they cause are atomic (a savepoint),
    and a chunk of leads is committed together so a batch costs one commit, not one per lead."""
    check_event_types(services.agreement, [
        (f"leads[{i}].activities[{j}].type", a.type)
        for i, lead in enumerate(leads) for j, a in enumerate(lead.activities)])
    outcomes: list[IntakeOutcome] = []
    for start in range(0, len(leads), CHUNK):
        async with services.db.transaction() as session:
            for lead in leads[start:start + CHUNK]:
                outcomes.append(await _with_savepoint(session, services, lead, actor))
        services.wake_delivery()
    return outcomes


async def add_activities(services: Services, external_id: str, activities: Sequence[ActivityIn],
                         actor: str = "intake") -> IntakeOutcome | None:
    """Record behaviour events for a known lead and re-score it; ``None`` if the lead is unknown."""
    check_event_types(services.agreement, [(f"activities[{i}].type", a.type) for i, a in enumerate(activities)])
    async with services.db.transaction() as session:
        lead = await session.scalar(select(Lead).where(Lead.external_id == external_id))
        if lead is None:
            return None
        outcome = await _apply(session, services, lead, None, activities, actor)
    services.wake_delivery()
    return outcome


async def _with_savepoint(session: AsyncSession, services: Services, lead_in: LeadIn,
                          actor: str) -> IntakeOutcome:
    # Two requests creating the same new lead at once: the loser's insert hits the unique
    # index, its savepoint rolls back, and the retry finds the winner's row and updates it.
    for attempt in range(3):
        try:
            async with session.begin_nested():
                return await _ingest_one(session, services, lead_in, actor)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def _ingest_one(session: AsyncSession, services: Services, lead_in: LeadIn, actor: str) -> IntakeOutcome:
    email = lead_in.email.lower()
    existing = (await session.scalars(
        select(Lead).where(or_(Lead.external_id == lead_in.external_id, Lead.email == email))
        .order_by((Lead.external_id == lead_in.external_id).desc()).limit(1))).first()
    data = lead_in.model_dump(mode="json", exclude={"activities"}, exclude_none=True)
    data["email"] = email
    now = services.clock.now()
    if existing is None:
        lead = Lead(external_id=lead_in.external_id, email=email, data=data, stage=Stage.CAPTURED,
                    score=0, fast_track=False, explanation={}, created_at=now, updated_at=now,
                    source=lead_in.source, campaign=lead_in.campaign)
        session.add(lead)
        await session.flush()
        await events.record(session, services, lead, actor, "lead.captured", None,
                            {"external_id": lead.external_id})
        return await _apply(session, services, lead, data, lead_in.activities, actor, created=True)
    outcome = await _apply(session, services, existing, data, lead_in.activities, actor)
    if existing.external_id != lead_in.external_id:
        outcome.duplicate_of = existing.external_id
    return outcome


async def _apply(session: AsyncSession, services: Services, lead: Lead, data: dict[str, Any] | None,
                 activities: Sequence[ActivityIn], actor: str, created: bool = False) -> IntakeOutcome:
    now = services.clock.now()
    changed = created
    if data is not None:
        merged = {**lead.data, **data, "external_id": lead.external_id}
        if merged != lead.data:
            changed = True
            lead.data = merged
            lead.source, lead.campaign = merged.get("source"), merged.get("campaign")
    new = [Activity(item.type, item.occurred_at or now) for item in activities]
    for item in new:
        session.add(ActivityRow(lead_id=lead.id, type=item.type, occurred_at=item.occurred_at, created_at=now))
        changed = True
    if created:
        history = new  # nothing stored before this request
    else:
        await session.flush()
        rows = (await session.execute(
            select(ActivityRow.type, ActivityRow.occurred_at).where(ActivityRow.lead_id == lead.id))).all()
        history = [Activity(t, at) for t, at in rows]
    result = score(LeadData.model_validate(lead.data), history, services.agreement, now)
    before = {"stage": lead.stage, "score": lead.score}
    lead.score, lead.fast_track = result.total, result.fast_track
    lead.explanation = explanation_record(result)
    stage = Stage(lead.stage)
    offered = False
    if stage in _MAY_QUALIFY and result.stage is Stage.MQL:
        lead.qualified_at, lead.finished_at, lead.owner = now, None, None
        lead.stage = Stage.MQL
        await events.record(session, services, lead, actor, "lead.qualified", before,
                            {"stage": Stage.MQL, "score": result.total, "fast_track": result.fast_track})
        await _route_and_offer(session, services, lead, actor)
        offered = True
    elif stage is Stage.CAPTURED and result.stage is not stage:
        lead.stage = result.stage
        await events.record(session, services, lead, actor, "lead.stage_changed", before,
                            {"stage": result.stage, "score": result.total})
    if changed or before["score"] != lead.score:
        lead.updated_at = now
    return IntakeOutcome(
        external_id=lead.external_id, lead_id=lead.id,
        status="created" if created else ("updated" if changed else "unchanged"),
        score=lead.score, stage=lead.stage, qualified=result.qualified, offered=offered,
        routing=lead.routing if offered else None,
        not_qualified=[] if result.qualified else result.not_qualified_reasons(),
    )


async def _route_and_offer(session: AsyncSession, services: Services, lead: Lead, actor: str) -> None:
    state = await routing_state.load_state(session, services)
    decision = route(LeadData.model_validate(lead.data), services.agreement, state, services.clock.now())
    await routing_state.save_credit(session, services, decision.rr_credit)
    await make_offer(session, services, lead, decision, actor)


async def lead_summary(services: Services, external_id: str) -> dict[str, Any] | None:
    """What the CRM can read back about one lead: stage, owner, score and its explanation."""
    async with services.db.transaction() as session:
        lead = await session.scalar(select(Lead).where(Lead.external_id == external_id))
        if lead is None:
            return None
        return {"id": lead.id, "external_id": lead.external_id, "stage": lead.stage, "score": lead.score,
                "fast_track": lead.fast_track, "team": lead.team, "owner": lead.owner,
                "explanation": lead.explanation, "routing": lead.routing,
                "qualified_at": lead.qualified_at.isoformat() if lead.qualified_at else None,
                "accepted_at": lead.accepted_at.isoformat() if lead.accepted_at else None}
