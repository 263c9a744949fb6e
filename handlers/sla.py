"""Starting SLA chains: which policy applies, and when each step falls due.

A chain's policy is frozen onto the handoff when the offer is made, so editing
the configuration later does not change escalations already running. Firing the
steps is ``handlers.timers``' job.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from scoring.business_hours import WorkCalendar, add_working_time
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.services import Services
from scoring.agreement import Agreement, SlaPolicy, Team
from store.models import Handoff, Timer, TimerStatus

Chain = Literal["accept", "first_touch", "cadence"]


def choose_policy(agreement: Agreement, team: Team, fast_track: bool) -> dict[str, Any]:
    """The policy to freeze onto a new handoff, with its name."""
    name = team.fast_track_sla if fast_track and team.fast_track_sla else team.sla
    policy = agreement.sla.policies[name]
    return {"name": name, **policy.model_dump(mode="json")}


def frozen_policy(handoff: Handoff) -> SlaPolicy:
    data = {k: v for k, v in handoff.policy.items() if k != "name"}
    return SlaPolicy.model_validate(data)


def calendar_for(agreement: Agreement, rep_email: str | None) -> WorkCalendar | None:
    found = agreement.rep(rep_email) if rep_email else None
    if found is None:
        return None
    team, rep = found
    return WorkCalendar.for_rep(rep, team, agreement)


def due_after(start: datetime, delay: timedelta, policy: SlaPolicy,
              calendar: WorkCalendar | None) -> datetime:
    """When a step ``delay`` after ``start`` falls due, counting working time if the policy says so."""
    if policy.business_hours and calendar is not None:
        return add_working_time(start, delay, calendar)
    return start + delay


def deadline(start: datetime, policy: SlaPolicy, chain: Chain, calendar: WorkCalendar | None) -> datetime | None:
    """The moment the SLA counts as missed: the first step that escalates or reassigns."""
    steps = policy.accept if chain == "accept" else policy.first_touch
    breach = next((s for s in steps if s.action in ("escalate", "reassign")), steps[-1] if steps else None)
    return due_after(start, breach.after, policy, calendar) if breach else None


async def start_chain(session: AsyncSession, services: Services, handoff: Handoff, chain: Chain,
                      start: datetime) -> datetime | None:
    """Write the chain's first pending timer; returns the SLA deadline to show people."""
    policy = frozen_policy(handoff)
    steps = policy.accept if chain == "accept" else policy.first_touch
    calendar = calendar_for(services.agreement, handoff.rep)
    if steps:
        session.add(Timer(lead_id=handoff.lead_id, handoff_id=handoff.id, chain=chain, step=0,
                          fence=handoff.fence, status=TimerStatus.PENDING,
                          due_at=due_after(start, steps[0].after, policy, calendar)))
    return deadline(start, policy, chain, calendar)


async def cancel_timers(session: AsyncSession, handoff_id: int, chain: Chain | None = None) -> None:
    """Cancel pending timers of a handoff (stale ones would be fenced out anyway; this keeps sweeps small)."""
    statement = update(Timer).where(Timer.handoff_id == handoff_id,
                                    Timer.status == TimerStatus.PENDING)
    if chain:
        statement = statement.where(Timer.chain == chain)
    await session.execute(statement.values(status=TimerStatus.CANCELLED))
