"""SLA chains: which policy applies, when each step falls due, and writing the step timers.

A chain's policy is frozen onto the handoff when the offer is made, so editing
the configuration later does not change escalations already running. Every
step's due time is counted from the chain's start (the offer for ``accept``,
the acceptance for ``first_touch`` and ``cadence``), never from the previous
firing, so a late sweep does not push the whole chain back. Firing the steps is
``handlers.followup.timers``' job.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, Literal
from weakref import WeakKeyDictionary

from sqlalchemy import literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.services import Services
from scoring.agreement import Agreement, SlaPolicy, SlaStep, Team
from scoring.business_hours import WorkCalendar, add_working_time
from store.models import Handoff, Timer, TimerStatus
from store.rows import buffer_of

Chain = Literal["accept", "first_touch", "cadence"]
# Written as a literal, not a bound parameter: only then can SQLite (and PostgreSQL's generic
# plans) prove the query matches the partial index on pending timers.
IS_PENDING = Timer.status == literal_column("'pending'")
_FROZEN: WeakKeyDictionary[Handoff, tuple[dict[str, Any], SlaPolicy]] = WeakKeyDictionary()
_DUMPED: dict[int, tuple[SlaPolicy, dict[str, Any]]] = {}
_PARSED: dict[str, SlaPolicy] = {}


def choose_policy(agreement: Agreement, team: Team, fast_track: bool) -> dict[str, Any]:
    """The policy to freeze onto a new handoff, with its name.

    Dumped once per configured policy: stored policies are never changed in place, so every
    handoff of a policy can share the dict (intake offers hundreds in a batch)."""
    name = team.fast_track_sla if fast_track and team.fast_track_sla else team.sla
    policy = agreement.sla.policies[name]
    cached = _DUMPED.get(id(policy))
    if cached is None or cached[0] is not policy:
        if len(_DUMPED) > 256:  # configurations reloaded many times over
            _DUMPED.clear()
        cached = _DUMPED[id(policy)] = (policy, {"name": name, **policy.model_dump(mode="json")})
    return cached[1]


def freeze(handoff: Handoff, policy: SlaPolicy) -> None:
    """Tell ``frozen_policy`` what ``handoff.policy`` parses to, when the caller already has it."""
    _FROZEN[handoff] = (handoff.policy, policy)


def frozen_policy(handoff: Handoff) -> SlaPolicy:
    # Parsed once per loaded handoff: a firing or an offer asks for it several times.
    cached = _FROZEN.get(handoff)
    if cached is not None and cached[0] is handoff.policy:
        return cached[1]
    # Handoffs share a handful of distinct policies: parse each distinct one once.
    key = json.dumps(handoff.policy, sort_keys=True)
    policy = _PARSED.get(key)
    if policy is None:
        if len(_PARSED) > 256:
            _PARSED.clear()
        policy = _PARSED[key] = SlaPolicy.model_validate({k: v for k, v in handoff.policy.items() if k != "name"})
    _FROZEN[handoff] = (handoff.policy, policy)
    return policy


def steps_of(policy: SlaPolicy, chain: Chain) -> list[SlaStep]:
    """The chain's steps; the cadence check is a one-step chain at the end of its window."""
    if chain == "accept":
        return list(policy.accept)
    if chain == "first_touch":
        return list(policy.first_touch)
    return [SlaStep(after=policy.cadence.window, action="escalate")] if policy.cadence else []


def chain_rep(handoff: Handoff, chain: Chain) -> str | None:
    """Whose working hours a chain counts: the offered rep, or whoever accepted (a channel claim)."""
    return handoff.rep if chain == "accept" else (handoff.decided_by or handoff.rep)


def chain_start(handoff: Handoff, chain: Chain) -> datetime:
    if chain == "accept" or handoff.decided_at is None:
        return handoff.offered_at
    return handoff.decided_at


def calendar_for(agreement: Agreement, rep_email: str | None) -> WorkCalendar | None:
    found = agreement.rep(rep_email) if rep_email else None
    if found is None:
        return None
    team, rep = found
    return WorkCalendar.for_rep(rep, team, agreement)


def due_after(start: datetime, delay: timedelta, policy: SlaPolicy, calendar: WorkCalendar | None) -> datetime:
    """When a step ``delay`` after ``start`` falls due, counting working time if the policy says so."""
    if policy.business_hours and calendar is not None:
        return add_working_time(start, delay, calendar)
    return start + delay


def deadline(start: datetime, policy: SlaPolicy, chain: Chain, calendar: WorkCalendar | None) -> datetime | None:
    """The moment the SLA counts as missed: the first step that escalates or reassigns."""
    steps = steps_of(policy, chain)
    breach = next((s for s in steps if s.action in ("escalate", "reassign")), steps[-1] if steps else None)
    if breach is None:
        return None
    # A cadence window is calendar time ("3 calls in 14 days"), not working time.
    return due_after(start, breach.after, policy, None if chain == "cadence" else calendar)


def step_due(services: Services, handoff: Handoff, chain: Chain, step: int) -> datetime | None:
    """When ``step`` of ``chain`` falls due for ``handoff``, or None past the chain's end."""
    policy = frozen_policy(handoff)
    steps = steps_of(policy, chain)
    if step >= len(steps):
        return None
    calendar = None if chain == "cadence" else calendar_for(services.agreement, chain_rep(handoff, chain))
    return due_after(chain_start(handoff, chain), steps[step].after, policy, calendar)


def schedule_step(
    session: AsyncSession, services: Services, handoff: Handoff, chain: Chain, step: int
) -> datetime | None:
    """Add the pending timer for ``step`` (fenced with the handoff's current fence), if the chain has
    it; returns when it falls due."""
    due = step_due(services, handoff, chain, step)
    if due is None:
        return None
    row = {
        "lead_id": handoff.lead_id,
        "handoff_id": handoff.id,
        "chain": chain,
        "step": step,
        "fence": handoff.fence,
        "status": TimerStatus.PENDING,
        "due_at": due,
    }
    buffer = buffer_of(session)
    if buffer is not None:
        buffer.add(Timer, row)
    else:
        session.add(Timer(**row))
    return due


async def start_chain(
    session: AsyncSession, services: Services, handoff: Handoff, chain: Chain, start: datetime
) -> datetime | None:
    """Write the chain's first pending timer; returns the SLA deadline to show people.

    Starting ``first_touch`` (at acceptance) also schedules the cadence check at the end of
    the cadence window, so the accept handler needs one call. ``start`` must be the chain's
    start as stored on the handoff (``offered_at`` / ``decided_at``): later steps count from it.
    """
    policy = frozen_policy(handoff)
    schedule_step(session, services, handoff, chain, 0)
    if chain == "first_touch" and policy.cadence is not None:
        await start_chain(session, services, handoff, "cadence", start)
    return deadline(start, policy, chain, calendar_for(services.agreement, chain_rep(handoff, chain)))


async def cancel_timers(session: AsyncSession, handoff_id: int, chain: Chain | None = None) -> None:
    """Cancel pending timers of a handoff (stale ones would be fenced out anyway; this keeps sweeps small)."""
    # Narrowed through the lead's index: a handoff's timers are a lead's timers.
    lead_id = select(Handoff.lead_id).where(Handoff.id == handoff_id).scalar_subquery()
    statement = update(Timer).where(Timer.lead_id == lead_id, Timer.handoff_id == handoff_id, IS_PENDING)
    if chain:
        statement = statement.where(Timer.chain == chain)
    await session.execute(statement.values(status=TimerStatus.CANCELLED))


async def fired_steps(session: AsyncSession, handoff: Handoff, chain: Chain) -> set[int]:
    """Steps of ``chain`` already fired for ``handoff`` (read through the lead index: a lead has few timers)."""
    rows = await session.scalars(
        select(Timer.step).where(
            Timer.lead_id == handoff.lead_id,
            Timer.handoff_id == handoff.id,
            Timer.chain == chain,
            Timer.status == TimerStatus.FIRED,
        )
    )
    return set(rows.all())
