"""Offering a qualified lead: the handoff row, its frozen SLA, the card and the audit event."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.followup import sla
from handlers.handoff import lifecycle
from handlers.services import Services
from scoring.agreement import Stage
from scoring.route import RoutingDecision
from store.models import Handoff, HandoffState, Lead
from store.rows import new


def routing_record(decision: RoutingDecision) -> dict[str, object]:
    """The routing decision as stored on the lead: its steps as codes and values, worded when
    read (``handlers.text.routing.routing_words``), so a reader's language can be chosen then."""
    return {
        "team": decision.team,
        "rep": decision.rep,
        "mode": decision.mode,
        "matched": decision.matched.as_json(),
        "trace": [step.as_json() for step in decision.trace],
        "skipped": [{"email": s.email, "reason": s.reason.as_json()} for s in decision.skipped],
    }


async def make_offer(
    session: AsyncSession,
    services: Services,
    lead: Lead,
    decision: RoutingDecision,
    actor: str,
    previous_reps: list[str] | None = None,
) -> Handoff:
    """Offer ``lead`` as ``decision`` says, in the caller's transaction."""
    handoff = prepare_offer(services, lead, decision, previous_reps)
    session.add(handoff)
    await session.flush()
    await complete_offer(session, services, lead, handoff, actor)
    return handoff


def fallback_people(services: Services, team: str) -> list[str]:
    """Who sees a lead nobody in ``team`` could take, when there is no managers channel."""
    agreement = services.agreement
    found = agreement.team(team)
    managers = [m.email.lower() for m in found.managers] if found else []
    return managers or sorted({a.lower() for a in agreement.roles.admins})


def prepare_offer(
    services: Services, lead: Lead, decision: RoutingDecision, previous_reps: list[str] | None = None
) -> Handoff:
    """Route the lead as ``decision`` says and build its handoff row, with its SLA deadline
    (not yet added; ``complete_offer`` runs once it has an id).

    Split in two so intake can decide a whole batch in memory and write each row once."""
    agreement = services.agreement
    team = (agreement.team(decision.team) if decision.team else None) or agreement.teams[0]
    now = services.clock.now()
    rep = decision.rep.lower() if decision.rep else None
    frozen = sla.choose_policy(agreement, team, lead.fast_track)
    policy = agreement.sla.policies[frozen["name"]]
    handoff = new(
        Handoff,
        lead_id=lead.id,
        team=team.name,
        rep=rep,
        mode=decision.mode,
        state=HandoffState.OFFERED,
        fence=1,
        policy=frozen,
        previous_reps=list(previous_reps or []),
        offered_at=now,
        due_at=sla.deadline(now, policy, "accept", sla.calendar_for(agreement, rep)),
    )
    sla.freeze(handoff, policy)
    lead.team = team.name
    lead.routing = routing_record(decision)
    lifecycle.move_lead(lead, lifecycle.Transition.OFFER, Stage.MQL)
    lead.updated_at = now
    return handoff


async def complete_offer(session: AsyncSession, services: Services, lead: Lead, handoff: Handoff, actor: str) -> None:
    """The OFFER transition's effects (the lead was moved by ``prepare_offer``): start the SLA,
    enqueue the card, audit the offer."""
    move = lifecycle.Move(
        lifecycle.Transition.OFFER,
        lead,
        handoff,
        actor,
        after={
            "handoff_id": handoff.id,
            "team": handoff.team,
            "rep": handoff.rep,
            "mode": handoff.mode,
            "due_at": handoff.due_at.isoformat() if handoff.due_at else None,
        },
    )
    await lifecycle.apply(session, services, move)
