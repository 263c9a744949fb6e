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
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from handlers import events, routing_state
from handlers.offer import complete_offer, prepare_offer
from handlers.services import Services
from scoring.agreement import Agreement, Stage
from scoring.lead import Activity, LeadData
from scoring.route import route
from scoring.score import ScoreResult, score
from store.models import Activity as ActivityRow
from store.models import Lead

MAX_BATCH = 1000
CHUNK = 100  # leads committed together in one transaction
# A lead in one of these stages may (re)qualify and be offered; later stages belong to sales.
_MAY_QUALIFY = {Stage.CAPTURED, Stage.RECYCLED}


class ActivityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=64)
    occurred_at: datetime | None = None


class LeadIn(LeadData):
    """A lead as the intake API takes it: the lead's fields plus behaviour events so far."""

    activities: list[ActivityIn] = Field(default_factory=list, max_length=1000)


class LeadForgotten(LookupError):
    """The lead's contact details were erased on request; it takes no more activities."""


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
    """Ingest leads in chunks. A chunk is one transaction: every lead's changes and the
    messages they cause commit together, and the chunk's reads and inserts are set-wise,
    so a batch of 100 costs a handful of round trips instead of hundreds."""
    check_event_types(services.agreement, [
        (f"leads[{i}].activities[{j}].type", a.type)
        for i, lead in enumerate(leads) for j, a in enumerate(lead.activities)])
    outcomes: list[IntakeOutcome] = []
    for start in range(0, len(leads), CHUNK):
        outcomes += await _chunk_with_retry(services, leads[start:start + CHUNK], actor)
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
        if lead.forgotten_at is not None:
            raise LeadForgotten(external_id)
        batch = _Batch(session, services, actor)
        (outcome,) = await batch.run([(lead, None, list(activities), False)])
    services.wake_delivery()
    return outcome


async def _chunk_with_retry(services: Services, chunk: Sequence[LeadIn], actor: str) -> list[IntakeOutcome]:
    # Two requests creating the same new lead at once: the loser's insert hits the unique
    # index, its transaction rolls back, and the retry finds the winner's row and updates it.
    for attempt in range(3):
        try:
            async with services.db.transaction() as session:
                return await _ingest_chunk(session, services, chunk, actor)
        except DBAPIError as exc:
            if attempt == 2 or not _retryable(exc):
                raise
    raise AssertionError("unreachable")


def _retryable(exc: DBAPIError) -> bool:
    """A unique-index race, or PostgreSQL breaking a deadlock / serialisation conflict: run it again."""
    if isinstance(exc, IntegrityError):
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(getattr(exc.orig, "__cause__", None), "sqlstate", None)
    return sqlstate in {"40P01", "40001"}


async def _ingest_chunk(session: AsyncSession, services: Services, chunk: Sequence[LeadIn],
                        actor: str) -> list[IntakeOutcome]:
    emails = {lead.email.lower() for lead in chunk}
    ids = {lead.external_id for lead in chunk}
    found = (await session.scalars(select(Lead).where(or_(Lead.external_id.in_(ids), Lead.email.in_(emails))))).all()
    by_id = {lead.external_id: lead for lead in found}
    by_email = {lead.email: lead for lead in found if lead.email}
    now = services.clock.now()
    work: list[tuple[Lead, dict[str, Any] | None, list[ActivityIn], bool]] = []
    created: list[Lead] = []
    for item in chunk:
        data = item.model_dump(mode="json", exclude={"activities"}, exclude_none=True)
        data["email"] = email = item.email.lower()
        lead = by_id.get(item.external_id) or by_email.get(email)
        is_new = lead is None
        if lead is None:
            lead = Lead(external_id=item.external_id, email=email, data=data, stage=Stage.CAPTURED, score=0,
                        fast_track=False, explanation={}, created_at=now, updated_at=now,
                        source=item.source, campaign=item.campaign)
            created.append(lead)
            by_id[item.external_id], by_email[email] = lead, lead
        work.append((lead, data, list(item.activities), is_new and lead not in [w[0] for w in work]))
    session.add_all(created)
    await session.flush()  # one multi-row INSERT ... RETURNING for the new leads
    for lead in created:
        await events.record(session, services, lead, actor, "lead.captured", None, {"external_id": lead.external_id})
    outcomes = await _Batch(session, services, actor).run(work)
    for (lead, sent, _, _), outcome in zip(work, outcomes, strict=True):
        if sent and lead.external_id != sent["external_id"]:
            outcome.duplicate_of = lead.external_id
    return outcomes


class _Batch:
    """Scores, qualifies and offers a set of leads within one transaction."""

    def __init__(self, session: AsyncSession, services: Services, actor: str) -> None:
        self.session, self.services, self.actor = session, services, actor

    async def run(self, work: Sequence[tuple[Lead, dict[str, Any] | None, list[ActivityIn], bool]]
                  ) -> list[IntakeOutcome]:
        session, services = self.session, self.services
        now = services.clock.now()
        history = await self._stored_activities([lead.id for lead, _, _, new in work if not new])
        outcomes: list[IntakeOutcome] = []
        to_offer: list[tuple[Lead, IntakeOutcome]] = []
        for lead, data, activities, created in work:
            changed = created
            if data is not None:
                merged = {**lead.data, **data, "external_id": lead.external_id}
                if merged != lead.data:
                    changed = True
                    lead.data = merged
                    lead.source, lead.campaign = merged.get("source"), merged.get("campaign")
            new = [Activity(a.type, a.occurred_at or now) for a in activities]
            session.add_all([ActivityRow(lead_id=lead.id, type=a.type, occurred_at=a.occurred_at, created_at=now)
                             for a in new])
            changed = changed or bool(new)
            history.setdefault(lead.id, []).extend(new)
            result = score(LeadData.model_validate(lead.data), history[lead.id], services.agreement, now)
            before = {"stage": lead.stage, "score": lead.score}
            lead.score, lead.fast_track = result.total, result.fast_track
            lead.explanation = explanation_record(result)
            stage = Stage(lead.stage)
            outcome = IntakeOutcome(
                external_id=data["external_id"] if data else lead.external_id, lead_id=lead.id,
                status="created" if created else ("updated" if changed else "unchanged"),
                score=lead.score, stage=lead.stage, qualified=result.qualified, offered=False,
                not_qualified=[] if result.qualified else result.not_qualified_reasons())
            if stage in _MAY_QUALIFY and result.stage is Stage.MQL and not any(lead is o[0] for o in to_offer):
                lead.qualified_at, lead.finished_at, lead.owner = now, None, None
                lead.stage = Stage.MQL
                await events.record(session, services, lead, self.actor, "lead.qualified", before,
                                    {"stage": Stage.MQL, "score": result.total, "fast_track": result.fast_track})
                to_offer.append((lead, outcome))
            elif stage is Stage.CAPTURED and result.stage is not stage:
                lead.stage = result.stage
                await events.record(session, services, lead, self.actor, "lead.stage_changed", before,
                                    {"stage": result.stage, "score": result.total})
            if changed or before["score"] != lead.score:
                lead.updated_at = now
            outcomes.append(outcome)
        if to_offer:
            await self._offer(to_offer)
        for outcome, (lead, _, _, _) in zip(outcomes, work, strict=True):
            outcome.stage = lead.stage
        return outcomes

    async def _stored_activities(self, lead_ids: list[int]) -> dict[int, list[Activity]]:
        history: dict[int, list[Activity]] = {}
        if lead_ids:
            rows = await self.session.execute(select(ActivityRow.lead_id, ActivityRow.type, ActivityRow.occurred_at)
                                              .where(ActivityRow.lead_id.in_(lead_ids)))
            for lead_id, kind, at in rows.all():
                history.setdefault(lead_id, []).append(Activity(kind, at))
        return history

    async def _offer(self, to_offer: list[tuple[Lead, IntakeOutcome]]) -> None:
        """Route each lead in turn against one routing state kept current in memory, then write
        the handoffs in one statement and finish each offer."""
        session, services = self.session, self.services
        now = services.clock.now()
        state = initial = await routing_state.load_state(session, services)
        offers = []
        for lead, outcome in to_offer:
            decision = route(LeadData.model_validate(lead.data), services.agreement, state, now)
            state = routing_state.after_offer(state, decision)
            handoff = prepare_offer(services, lead, decision)
            offers.append((lead, outcome, decision, handoff))
        session.add_all([handoff for _, _, _, handoff in offers])
        await session.flush()
        for lead, outcome, decision, handoff in offers:
            await complete_offer(session, services, lead, handoff, decision, self.actor)
            outcome.offered, outcome.routing = True, lead.routing
        await routing_state.save_credit(session, services, state.rr_credit, initial.rr_credit)


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
