"""Loading an offer for an action and deciding who may act on it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.handoff import lifecycle
from handlers.handoff.outcome import Outcome
from handlers.names import actor_name, person_name
from handlers.services import Services
from handlers.text import _
from handlers.text.refusals import RefusalCode, refuse
from handlers.views.actions import ButtonData
from store.models import Handoff, HandoffState, Lead


@dataclass
class OfferContext:
    lead: Lead
    handoff: Handoff


def _name(services: Services, email: str | None) -> str:
    return person_name(services.agreement, email, _("person.someone"))


async def load_offer(
    session: AsyncSession, services: Services, data: ButtonData, lock: bool = False
) -> OfferContext | Outcome:
    """The lead and handoff a button refers to, or a polite refusal if they do not match."""
    query = select(Handoff).where(Handoff.id == data.handoff_id)
    if lock and services.db.is_postgres:
        query = query.with_for_update()
    handoff = await session.scalar(query)
    lead = await session.get(Lead, data.lead_id) if handoff else None
    if handoff is None or lead is None or handoff.lead_id != lead.id:
        return refuse(RefusalCode.LEAD_GONE)
    return OfferContext(lead=lead, handoff=handoff)


def may_take(services: Services, handoff: Handoff, actor_email: str) -> Outcome | None:
    """``None`` if the actor may accept or reject this offer, else the refusal to show them."""
    actor = actor_email.lower()
    if handoff.mode == "direct" and handoff.rep:
        if actor == handoff.rep:
            return None
        return refuse(RefusalCode.OFFERED_TO_OTHER, name=_name(services, handoff.rep))
    team = services.agreement.team(handoff.team)
    members = {r.email.lower() for r in team.reps} if team else set()
    members |= {m.email.lower() for m in team.managers} if team else set()
    if actor in members:
        return None
    return refuse(RefusalCode.OTHER_TEAM, team=handoff.team)


def not_open(services: Services, handoff: Handoff, actor_email: str) -> Outcome:
    """Why an offer that is no longer open cannot be acted on."""
    if handoff.state == HandoffState.ACCEPTED:
        if handoff.decided_by == actor_email.lower():
            return refuse(RefusalCode.ALREADY_ACCEPTED_BY_YOU)
        return refuse(RefusalCode.ALREADY_ACCEPTED, name=_name(services, handoff.decided_by))
    if handoff.state == HandoffState.REJECTED:
        return refuse(RefusalCode.ALREADY_REJECTED, name=_name(services, handoff.decided_by))
    if handoff.state == HandoffState.REASSIGNED:
        return refuse(RefusalCode.OFFER_REASSIGNED)
    return refuse(RefusalCode.OFFER_CLOSED)


async def decide(
    session: AsyncSession, handoff: Handoff, transition: lifecycle.Transition, actor: str, now: datetime
) -> bool:
    """Make ``transition`` on an open offer by ``actor``: a compare-and-set on the offer still being open.

    However many clicks race (double clicks, retried requests, two reps on one channel card),
    exactly one caller gets True; the rest see the winner's row refreshed into ``handoff``.
    """
    rule = lifecycle.TABLE[transition]
    won = await session.execute(
        update(Handoff)
        .where(Handoff.id == handoff.id, Handoff.state.in_(rule.handoff_from))
        .values(state=rule.handoff_to, decided_by=actor, decided_at=now, fence=Handoff.fence + 1)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(handoff)
    return bool(won.rowcount == 1)  # type: ignore[attr-defined]


async def closed_offer(session: AsyncSession, services: Services, handoff: Handoff, actor_email: str) -> Outcome:
    """``not_open``, and for a reassigned offer who moved it and to whom (the next offer's rep):
    a click on a notice or card left from before gets the truth, not a guess."""
    if handoff.state != HandoffState.REASSIGNED:
        return not_open(services, handoff, actor_email)
    after = await session.scalar(
        select(Handoff).where(Handoff.lead_id == handoff.lead_id, Handoff.id > handoff.id).order_by(Handoff.id).limit(1)
    )
    if after is None:
        return not_open(services, handoff, actor_email)
    agreement = services.agreement
    if after.rep:
        to = person_name(agreement, after.rep)
    elif after.mode == "channel":
        to = _("notice.resolved.team_channel", team=after.team)
    else:
        to = _("notice.resolved.managers_channel")
    return refuse(RefusalCode.ALREADY_REASSIGNED, who=actor_name(agreement, handoff.decided_by), to=to)
