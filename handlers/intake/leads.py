"""Lead intake: score, store, qualify and (when qualified) route and offer, 100 leads to a transaction.

The same lead twice updates it and never duplicates it or its offer: a lead is
identified by the CRM's ``external_id`` and deduplicated by email.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import or_, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.audit import AuditAction
from handlers.handoff import lifecycle
from handlers.handoff.offer import complete_offer, prepare_offer
from handlers.intake import routing_state
from handlers.intake.input import ActivityIn, InvalidActivities, LeadIn, activity_keys, check_activities
from handlers.messaging import events
from handlers.services import Services
from handlers.text.routing import routing_words
from handlers.text.score import explanation_words, not_qualified_reasons
from scoring.agreement import Stage
from scoring.lead import Activity, LeadData
from scoring.route import RoutingState, route
from scoring.score import ScoreResult, score
from store.models import Activity as ActivityRow
from store.models import Handoff, Lead
from store.rows import buffered, insert_new, new

log = logging.getLogger(__name__)
MAX_BATCH = 1000
CHUNK = 100  # leads committed together in one transaction
# A lead in one of these stages may (re)qualify and be offered; later stages belong to sales.
_MAY_QUALIFY = {Stage.CAPTURED, Stage.RECYCLED}

# The audit actions of the moves decided in memory, and their transitions.
_TRANSITIONS = {
    AuditAction.QUALIFIED: lifecycle.Transition.QUALIFY,
    AuditAction.STAGE_CHANGED: lifecycle.Transition.CAPTURE,
}


__all__ = ["ActivityIn", "InvalidActivities", "LeadIn", "add_activities", "ingest", "lead_summary"]


class LeadForgotten(LookupError):
    """The lead's contact details were erased on request; it takes no more activities."""


class PartlyStored(Exception):
    """Leads that could not be stored because of a fault on Baton's side; the others were."""

    def __init__(self, outcomes: list[IntakeOutcome], failed: list[str]) -> None:
        super().__init__(f"{len(failed)} lead(s) could not be stored: {', '.join(failed)}")
        self.outcomes, self.failed = outcomes, failed


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
        # Shallow on purpose: dataclasses.asdict would deep-copy the routing trace of every
        # lead for a response that is serialised at once.
        return {f.name: value for f in dataclasses.fields(self) if (value := getattr(self, f.name)) is not None}


def explanation_record(result: ScoreResult) -> dict[str, Any]:
    return {
        "total": result.total,
        "explicit": result.explicit,
        "implicit": result.implicit,
        "threshold": result.threshold,
        "lines": [
            {"rule": line.rule, "kind": line.kind, "points": line.points, "detail": line.detail}
            for line in result.lines
        ],
        "disqualifiers": list(result.disqualifiers),
        "missing_fields": list(result.missing_fields),
        "fast_track_events": list(result.fast_track_events),
    }


async def ingest(
    services: Services, leads: Sequence[LeadIn], actor: str = "intake", chunk: int = CHUNK
) -> list[IntakeOutcome]:
    """Ingest leads in chunks of ``chunk``. A chunk is one transaction: every lead's changes and
    the messages they cause commit together, and the chunk's reads and inserts are set-wise,
    so a batch of 100 costs a handful of round trips instead of hundreds. A lead's changes are
    never split across transactions; ``chunk=1`` gives each lead a transaction of its own."""
    check_activities(
        services.agreement,
        services.clock.now(),
        [(f"leads[{i}].activities[{j}]", a) for i, lead in enumerate(leads) for j, a in enumerate(lead.activities)],
    )
    outcomes: list[IntakeOutcome] = []
    failed: list[str] = []
    for start in range(0, len(leads), chunk):
        outcomes += await _store(services, leads[start : start + chunk], actor, failed)
        services.wake_delivery()
    if failed:
        raise PartlyStored(outcomes, failed)
    return outcomes


async def add_activities(
    services: Services, external_id: str, activities: Sequence[ActivityIn], actor: str = "intake"
) -> IntakeOutcome | None:
    """Record behaviour events for a known lead and re-score it; ``None`` if the lead is unknown."""
    check_activities(
        services.agreement, services.clock.now(), [(f"activities[{i}]", a) for i, a in enumerate(activities)]
    )
    async with services.db.transaction() as session:
        lead = await session.scalar(select(Lead).where(Lead.external_id == external_id))
        if lead is None:
            return None
        if lead.forgotten_at is not None:
            raise LeadForgotten(external_id)
        batch = _Batch(session, services, actor)
        (outcome,) = await batch.run([_Work(lead, None, list(activities), False, snapshot=False)])
    services.wake_delivery()
    return outcome


async def _store(services: Services, part: Sequence[LeadIn], actor: str, failed: list[str]) -> list[IntakeOutcome]:
    """Store ``part`` in one transaction or, if that fails, one lead per transaction; the external
    ids of leads that could not be stored are added to ``failed``."""
    try:
        return await _chunk_with_retry(services, part, actor)
    except Exception:
        if len(part) == 1:
            log.exception("lead %r could not be stored", part[0].external_id)
            failed.append(part[0].external_id)
            return []
        # A fault on our side (a bug, a lost database) must not keep the rest of the batch out,
        # or a CRM retrying the request would never get any of it in: store them one by one.
        log.exception("storing %d leads together failed; storing them one at a time", len(part))
        return [outcome for lead in part for outcome in await _store(services, [lead], actor, failed)]


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


async def _ingest_chunk(
    session: AsyncSession, services: Services, chunk: Sequence[LeadIn], actor: str
) -> list[IntakeOutcome]:
    emails = {lead.email.lower() for lead in chunk}
    ids = {lead.external_id for lead in chunk}
    found = (await session.scalars(select(Lead).where(or_(Lead.external_id.in_(ids), Lead.email.in_(emails))))).all()
    by_id = {lead.external_id: lead for lead in found}
    by_email = {lead.email: lead for lead in found if lead.email}
    now = services.clock.now()
    work: list[_Work] = []
    seen: set[int] = set()
    for item in chunk:
        data = item.model_dump(mode="json", exclude={"activities"}, exclude_none=True)
        data["email"] = email = item.email.lower()
        lead = by_id.get(item.external_id) or by_email.get(email)
        if lead is None:
            # Not added to the session yet: the row is inserted once, scored and routed.
            lead = new(
                Lead,
                external_id=item.external_id,
                email=email,
                data=data,
                stage=Stage.CAPTURED,
                score=0,
                fast_track=False,
                explanation={},
                created_at=now,
                updated_at=now,
                source=item.source,
                campaign=item.campaign,
            )
            by_id[item.external_id], by_email[email] = lead, lead
        created = lead.id is None and id(lead) not in seen
        seen.add(id(lead))
        work.append(_Work(lead, data, list(item.activities), created))
    outcomes = await _Batch(session, services, actor).run(work)
    for entry, outcome in zip(work, outcomes, strict=True):
        if entry.data and entry.lead.external_id != entry.data["external_id"]:
            outcome.duplicate_of = entry.lead.external_id
    return outcomes


def _profile(lead: Lead) -> LeadData:
    """The stored lead as the engine sees it. Stored data was validated on its way in (an email
    check alone costs about 0.2 ms), so it is not validated again."""
    return LeadData.model_construct(**lead.data)


@dataclass
class _Work:
    """One lead of a batch: what arrived for it, and whether this batch creates it."""

    lead: Lead
    data: dict[str, Any] | None
    activities: list[ActivityIn]
    created: bool
    snapshot: bool = True  # the activities came inside the lead: its events so far


class _Batch:
    """Scores, qualifies and offers a set of leads within one transaction.

    Everything is decided in memory first, so each lead row is written once (inserted or
    updated), the handoffs in one statement, and the audit events, timers, activities and
    cards in one statement per table (``store.rows``)."""

    def __init__(self, session: AsyncSession, services: Services, actor: str) -> None:
        self.session, self.services, self.actor = session, services, actor
        self.events: list[tuple[Lead, AuditAction, dict[str, Any] | None, dict[str, Any]]] = []
        self.offers: list[tuple[Lead, IntakeOutcome, Handoff]] = []
        self.activities: list[tuple[Lead, list[tuple[str, Activity]]]] = []
        self.keys: dict[int, set[str]] = {}  # activity identities per lead (``id()``), stored and arrived
        self.state: RoutingState | None = None
        self.initial_credit: Mapping[str, int] = {}

    async def run(self, work: Sequence[_Work]) -> list[IntakeOutcome]:
        now = self.services.clock.now()
        history = await self._stored_activities([w.lead for w in work if w.lead.id is not None])
        outcomes = [await self._decide(entry, history.setdefault(id(entry.lead), []), now) for entry in work]
        await self._write(work, now)
        for outcome, entry in zip(outcomes, work, strict=True):
            outcome.lead_id, outcome.stage = entry.lead.id, entry.lead.stage
        return outcomes

    async def _decide(self, entry: _Work, history: list[Activity], now: datetime) -> IntakeOutcome:
        """Merge, score, qualify and route one lead in memory; nothing is written yet."""
        lead, data, created = entry.lead, entry.data, entry.created
        changed = created
        if created:
            self.events.append((lead, AuditAction.CAPTURED, None, {"external_id": lead.external_id}))
        if data is not None:
            merged = {**lead.data, **data, "external_id": lead.external_id}
            if merged != lead.data:
                changed = True
                lead.data = merged
                lead.source, lead.campaign = merged.get("source"), merged.get("campaign")
        # An activity already stored (or twice in this request) is the same event sent again:
        # it is neither stored nor scored a second time.
        known = self.keys.setdefault(id(lead), set())
        arrived: list[tuple[str, Activity]] = []
        for key, a in zip(activity_keys(entry.activities, now, entry.snapshot), entry.activities, strict=True):
            if key not in known:
                known.add(key)
                arrived.append((key, Activity(a.type, a.occurred_at or now)))
        self.activities.append((lead, arrived))
        changed = changed or bool(arrived)
        history.extend(activity for _, activity in arrived)
        profile = _profile(lead)
        result = score(profile, history, self.services.agreement, now)
        before = {"stage": lead.stage, "score": lead.score}
        lead.score, lead.fast_track = result.total, result.fast_track
        lead.explanation = explanation_record(result)
        stage = Stage(lead.stage)
        outcome = IntakeOutcome(
            external_id=data["external_id"] if data else lead.external_id,
            lead_id=0,
            status="created" if created else ("updated" if changed else "unchanged"),
            score=lead.score,
            stage=lead.stage,
            qualified=result.qualified,
            offered=False,
            not_qualified=not_qualified_reasons(result),
        )
        if stage in _MAY_QUALIFY and result.stage is Stage.MQL and not any(lead is o[0] for o in self.offers):
            lead.qualified_at, lead.finished_at, lead.owner = now, None, None
            lifecycle.move_lead(lead, lifecycle.Transition.QUALIFY, Stage.MQL)
            self.events.append(
                (
                    lead,
                    AuditAction.QUALIFIED,
                    before,
                    {"stage": Stage.MQL, "score": result.total, "fast_track": result.fast_track},
                )
            )
            await self._route(lead, outcome, profile)
        elif stage is Stage.CAPTURED and result.stage is not stage:
            lifecycle.move_lead(lead, lifecycle.Transition.CAPTURE, result.stage)
            self.events.append(
                (lead, AuditAction.STAGE_CHANGED, before, {"stage": result.stage, "score": result.total})
            )
        if changed or before["score"] != lead.score:
            lead.updated_at = now
        return outcome

    async def _write(self, work: Sequence[_Work], now: datetime) -> None:
        """Write what ``_decide`` decided: one statement per table for the whole batch."""
        session, services = self.session, self.services
        # New leads and handoffs in one INSERT each; changed leads are updated at commit.
        await insert_new(session, [entry.lead for entry in work if entry.created])
        for lead, _, handoff in self.offers:
            handoff.lead_id = lead.id
        await insert_new(session, [handoff for _, _, handoff in self.offers])
        async with buffered(session) as rows:
            for lead, arrived in self.activities:
                for key, activity in arrived:
                    # Insert-or-ignore: a concurrent request may have stored the same event.
                    rows.add(
                        ActivityRow,
                        {
                            "lead_id": lead.id,
                            "key": key,
                            "type": activity.type,
                            "occurred_at": activity.occurred_at,
                            "created_at": now,
                        },
                        skip_conflict_on=("lead_id", "key"),
                    )
            for lead, action, was, became in self.events:
                transition = _TRANSITIONS.get(action)
                if transition is None:  # the lead was captured: not a move of its stage
                    await events.record(session, services, lead, self.actor, action, was, became)
                    continue
                # The stage was moved while the batch was decided; the lifecycle audits it.
                move = lifecycle.Move(transition, lead, None, self.actor, before=was, after=became)
                await lifecycle.apply(session, services, move)
            for lead, outcome, handoff in self.offers:
                await complete_offer(session, services, lead, handoff, self.actor)
                outcome.offered, outcome.routing = True, routing_words(lead.routing)
        if self.state is not None:
            await routing_state.save_credit(session, services, self.state.rr_credit, self.initial_credit)

    async def _route(self, lead: Lead, outcome: IntakeOutcome, profile: LeadData) -> None:
        """Route ``lead`` against one routing state kept current in memory for the whole batch."""
        services = self.services
        if self.state is None:
            with self.session.no_autoflush:  # rows are written once, after every lead is decided
                self.state = await routing_state.load_state(self.session, services)
            self.initial_credit = self.state.rr_credit
        decision = route(profile, services.agreement, self.state, services.clock.now())
        self.state = routing_state.after_offer(self.state, decision)
        self.offers.append((lead, outcome, prepare_offer(services, lead, decision)))

    async def _stored_activities(self, leads: list[Lead]) -> dict[int, list[Activity]]:
        """Stored behaviour events, keyed by ``id()`` of the lead objects (new leads have no id yet)."""
        history: dict[int, list[Activity]] = {}
        if leads:
            objects = {lead.id: lead for lead in leads}
            rows = await self.session.execute(
                select(ActivityRow.lead_id, ActivityRow.key, ActivityRow.type, ActivityRow.occurred_at).where(
                    ActivityRow.lead_id.in_(objects)
                )
            )
            for lead_id, key, kind, at in rows.all():
                history.setdefault(id(objects[lead_id]), []).append(Activity(kind, at))
                self.keys.setdefault(id(objects[lead_id]), set()).add(key)
        return history


async def lead_summary(services: Services, external_id: str) -> dict[str, Any] | None:
    """What the CRM can read back about one lead: stage, owner, score and its explanation."""
    async with services.db.transaction() as session:
        lead = await session.scalar(select(Lead).where(Lead.external_id == external_id))
        if lead is None:
            return None
        return {
            "id": lead.id,
            "external_id": lead.external_id,
            "stage": lead.stage,
            "score": lead.score,
            "fast_track": lead.fast_track,
            "team": lead.team,
            "owner": lead.owner,
            "explanation": explanation_words(lead.explanation),
            "routing": routing_words(lead.routing),
            "qualified_at": lead.qualified_at.isoformat() if lead.qualified_at else None,
            "accepted_at": lead.accepted_at.isoformat() if lead.accepted_at else None,
        }
