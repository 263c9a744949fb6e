"""Moving an open offer to someone else: by the SLA chain, by a manager's button, or because
the rep went out of office; and a manager taking a lead over.

The old handoff is closed as REASSIGNED (its fence grows, so its timers go stale)
before the new offer is made, and the lead keeps the list of reps who already
had it so routing never offers it to them twice in one round.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.audit import AuditAction
from handlers.followup import sla
from handlers.followup.escalation import SLA_ACTOR, eligible_reps, lead_name, manager_buttons, tell_managers
from handlers.handoff import lifecycle
from handlers.handoff.access import OfferContext, closed_offer, load_offer
from handlers.handoff.cards import refresh_card
from handlers.handoff.outcome import Outcome
from handlers.intake import routing_state
from handlers.messaging import events
from handlers.names import person_name
from handlers.services import Services
from handlers.text import _
from handlers.text.refusals import RefusalCode, refuse
from handlers.views.actions import ButtonData
from handlers.views.notice import Notice
from scoring.agreement import Stage
from scoring.lead import LeadData
from scoring.route import Matched, MatchedBy, RoutingDecision, Step, TraceStep, route
from store.models import Handoff, HandoffState, Lead


def _previous(handoff: Handoff) -> list[str]:
    reps = [str(r).lower() for r in handoff.previous_reps]
    if handoff.rep and handoff.rep not in reps:
        reps.append(handoff.rep)
    return reps


async def _route_excluding(
    session: AsyncSession, services: Services, lead: Lead, exclude: list[str]
) -> RoutingDecision:
    state = await routing_state.load_state(session, services, exclude=exclude)
    return route(LeadData.model_validate(lead.data), services.agreement, state, services.clock.now())


async def hand_over(
    session: AsyncSession,
    services: Services,
    lead: Lead,
    handoff: Handoff,
    decision: RoutingDecision,
    actor: str,
    previous: list[str],
    note: str,
) -> Handoff:
    """Close ``handoff`` and offer the lead as ``decision`` says (the REASSIGN transition)."""
    handoff.decided_at, handoff.decided_by = services.clock.now(), None if actor == SLA_ACTOR else actor
    move = lifecycle.Move(
        lifecycle.Transition.REASSIGN,
        lead,
        handoff,
        actor,
        offer=True,
        before={"rep": handoff.rep},
        after={"from_handoff": handoff.id},
        note=note,
        decision=decision,
        previous=previous,
    )
    await lifecycle.apply(session, services, move)
    assert move.new_offer is not None
    return move.new_offer


async def move_on(
    session: AsyncSession, services: Services, lead: Lead, handoff: Handoff, actor: str, why: str
) -> Handoff | None:
    """Offer the lead to the next eligible rep (routing, excluding everyone who had it).

    When nobody is left, the frozen policy's ``when_exhausted`` decides: ``channel`` offers it
    to the team channel (or the managers channel), ``repeat`` starts a new round, ``stop``
    leaves the offer where it is and tells the managers. Returns the new handoff, or None.
    """
    policy = sla.frozen_policy(handoff)
    previous = _previous(handoff)
    decision = await _route_excluding(session, services, lead, previous)
    if decision.rep is None and policy.when_exhausted == "repeat":
        previous = [handoff.rep] if handoff.rep else []
        decision = await _route_excluding(session, services, lead, previous)
        if decision.rep is None:
            decision = await _route_excluding(session, services, lead, [])
    if decision.rep is not None:
        await routing_state.save_credit(session, services, decision.rr_credit)
        note = _("audit.note.with_detail", note=_("audit.note.to", who=_name(services, decision.rep)), detail=why)
        return await hand_over(session, services, lead, handoff, decision, actor, previous, note)
    team = services.agreement.team(handoff.team)
    if policy.when_exhausted == "channel" and handoff.rep is not None and team is not None:
        mode: Literal["channel", "none"] = "channel" if team.channel is not None else "none"
        where = (
            _("audit.note.to_team_channel", team=team.name)
            if team.channel is not None
            else _("audit.note.to_managers_channel")
        )
        decision = RoutingDecision(
            team=team.name,
            rep=None,
            mode=mode,
            matched=Matched(MatchedBy.NOBODY_LEFT),
            trace=(TraceStep(Step.ALL_HAD_LEAD, {"where": where}),),
            skipped=decision.skipped,
            rr_credit={},
        )
        note = _("audit.note.with_detail", note=_("audit.note.nobody_left", where=where), detail=why)
        return await hand_over(session, services, lead, handoff, decision, actor, previous, note)
    await _leave_with_managers(session, services, lead, handoff)
    return None


async def _leave_with_managers(session: AsyncSession, services: Services, lead: Lead, handoff: Handoff) -> None:
    team = services.agreement.team(handoff.team)
    notice = Notice(
        title=_("escalation.stuck.title", lead=lead_name(lead)),
        lines=[_("escalation.stuck.line")],
        buttons=manager_buttons(handoff, await eligible_reps(session, services, team, [handoff.rep]) if team else []),
        context=_("notice.lead_team_context", id=lead.external_id, team=handoff.team),
    )
    managers = await tell_managers(session, services, handoff, notice, f"stuck:{handoff.id}:{handoff.fence}")
    await events.record(
        session,
        services,
        lead,
        SLA_ACTOR,
        AuditAction.SLA_ESCALATED,
        None,
        {"handoff_id": handoff.id, "to": managers, "note": _("route.matched.nobody_left")},
    )
    await refresh_card(session, services, lead, handoff)


def _name(services: Services, email: str) -> str:
    return person_name(services.agreement, email)


def _manager_check(services: Services, handoff: Handoff, actor: str, code: RefusalCode) -> Outcome | None:
    team = services.agreement.team(handoff.team)
    managers = team.managers if team else []
    if any(m.email.lower() == actor for m in managers):
        return None
    names = _("person.or").join(m.name for m in managers) or _("person.no_managers")
    return refuse(code, names=names, team=handoff.team)


async def _open_offer(
    session: AsyncSession, services: Services, data: ButtonData, actor: str, code: RefusalCode
) -> OfferContext | Outcome:
    found = await load_offer(session, services, data, lock=True)
    if not isinstance(found, OfferContext):
        return found
    refusal = _manager_check(services, found.handoff, actor, code)
    if refusal:
        return refusal
    if found.handoff.state != HandoffState.OFFERED:
        return await closed_offer(session, services, found.handoff, actor)
    return found


async def reassign(services: Services, data: ButtonData, actor_email: str, to_rep: str, source: str) -> Outcome:
    """A manager of the handoff's team moves an open offer to ``to_rep`` (a rep of that team)."""
    actor, to_rep = actor_email.lower(), to_rep.strip().lower()
    async with services.db.transaction() as session:
        found = await _open_offer(session, services, data, actor, RefusalCode.MANAGERS_ONLY_REASSIGN)
        if not isinstance(found, OfferContext):
            return found
        lead, handoff = found.lead, found.handoff
        team = services.agreement.team(handoff.team)
        reps = team.reps if team else []
        rep = next((r for r in reps if r.email.lower() == to_rep), None)
        if team is None or rep is None:
            return refuse(RefusalCode.NOT_A_TEAM_REP, who=to_rep or _("person.that_person"), team=handoff.team)
        if to_rep == handoff.rep:
            return refuse(RefusalCode.ALREADY_OFFERED_TO, name=rep.name)
        if rep not in await eligible_reps(session, services, team):
            return refuse(RefusalCode.REP_OUT_OF_OFFICE, name=rep.name)
        manager = _name(services, actor)
        decision = RoutingDecision(
            team=handoff.team,
            rep=to_rep,
            mode="direct",
            matched=Matched(MatchedBy.MANAGER, manager),
            trace=(TraceStep(Step.REASSIGNED_BY, {"manager": manager, "rep": to_rep, "source": source}),),
            skipped=(),
            rr_credit={},
        )
        await hand_over(
            session,
            services,
            lead,
            handoff,
            decision,
            actor,
            _previous(handoff),
            _("audit.note.to_by", who=rep.name, manager=manager),
        )
    services.wake_delivery()
    return Outcome.done(_("done.reassigned", lead=lead_name(lead), rep=rep.name))


async def take_over(services: Services, data: ButtonData, actor_email: str, source: str) -> Outcome:
    """A manager of the handoff's team accepts the open offer as its owner."""
    actor = actor_email.lower()
    async with services.db.transaction() as session:
        found = await _open_offer(session, services, data, actor, RefusalCode.MANAGERS_ONLY_TAKE_OVER)
        if not isinstance(found, OfferContext):
            return found
        lead, handoff = found.lead, found.handoff
        now = services.clock.now()
        handoff.decided_at, handoff.decided_by = now, actor
        before = {"stage": lead.stage, "owner": lead.owner}
        # The manager accepts it like a rep would, so the stage follows the same rule as Accept.
        stage = lifecycle.accepted_stage(services.agreement.stages.skip_sal)
        lead.owner, lead.accepted_at, lead.updated_at = actor, now, now
        if stage == Stage.SQL:
            lead.sql_at = now
        after = {
            "stage": stage,
            "owner": actor,
            "handoff_id": handoff.id,
            "source": source,
            "taken_over_from": handoff.rep,
        }
        move = lifecycle.Move(
            lifecycle.Transition.TAKE_OVER,
            lead,
            handoff,
            actor,
            to=stage,
            offer=True,
            before=before,
            after=after,
            note=_name(services, actor),
        )
        await lifecycle.apply(session, services, move)
    services.wake_delivery()
    return Outcome.done(_("done.took_over", lead=lead_name(lead)))


async def open_direct_offers(session: AsyncSession, rep: str) -> list[tuple[Lead, Handoff]]:
    rows = await session.execute(
        select(Lead, Handoff)
        .join(Handoff, Handoff.lead_id == Lead.id)
        .where(Handoff.rep == rep.lower(), Handoff.state == HandoffState.OFFERED, Handoff.mode == "direct")
        .order_by(Handoff.id)
    )
    return [(lead, handoff) for lead, handoff in rows.all()]
