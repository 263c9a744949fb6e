"""What each ``lifecycle.Effect`` does: one function per effect, run by ``lifecycle.apply``.

Each takes the ``Move`` being made (lead, offer, actor, its audit ``after``) and works in the
caller's transaction. To change what a transition does, edit its row in ``lifecycle.TABLE``;
a new kind of effect is one function here and one ``Effect``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.followup import sla
from handlers.handoff import notices
from handlers.handoff.cards import build_card, card_key, lead_name, local_time, refresh_card
from handlers.handoff.lifecycle import Effect, Move, Transition
from handlers.messaging import events, outbox
from handlers.names import actor_name, person_name
from handlers.people import person_ref
from handlers.services import Services
from handlers.text import N_, _
from handlers.views.notice import Field, Notice
from store.models import Handoff

Run = Callable[[AsyncSession, Services, Move], Awaitable[None]]


def _offer(move: Move) -> Handoff:
    assert move.handoff is not None, f"{move.transition} needs an offer"
    return move.handoff


async def _cancel_accept(session: AsyncSession, services: Services, move: Move) -> None:
    await sla.cancel_timers(session, _offer(move).id, "accept")


async def _cancel_first_touch(session: AsyncSession, services: Services, move: Move) -> None:
    await sla.cancel_timers(session, _offer(move).id, "first_touch")


async def _cancel_all(session: AsyncSession, services: Services, move: Move) -> None:
    if move.handoff is None:  # an outcome for a lead whose offer is already closed: no timers run
        return
    await sla.cancel_timers(session, move.handoff.id)


async def _start_accept(session: AsyncSession, services: Services, move: Move) -> None:
    handoff = _offer(move)
    await sla.start_chain(session, services, handoff, "accept", handoff.offered_at)


async def _start_first_touch(session: AsyncSession, services: Services, move: Move) -> None:
    handoff = _offer(move)
    # The chain counts from the acceptance as stored on the offer (later steps read it there).
    start = handoff.decided_at or move.at or handoff.offered_at
    await sla.start_chain(session, services, handoff, "first_touch", start)


async def _new_offer(session: AsyncSession, services: Services, move: Move) -> None:
    from handlers.handoff.offer import make_offer  # offer.py moves the lead through this table too

    assert move.decision is not None, "a reassignment names where the lead goes"
    # Flush the closed offer first: at most one open offer per lead is a unique index.
    await session.flush()
    new = await make_offer(session, services, move.lead, move.decision, move.actor, previous_reps=move.previous)
    move.new_offer = new
    move.after.update({"handoff_id": new.id, "rep": new.rep, "mode": new.mode})


async def _post_offer(session: AsyncSession, services: Services, move: Move) -> None:
    """The offer's card: to the rep, the team channel, the managers channel, or a manager by DM."""
    from handlers.handoff.offer import fallback_people

    agreement, lead, handoff = services.agreement, move.lead, _offer(move)
    team = agreement.team(handoff.team)
    assert team is not None
    card = build_card(agreement, lead, handoff)
    key = card_key(handoff)
    if handoff.mode == "direct" and handoff.rep:
        await outbox.post(session, services, card, to_person=handoff.rep, key=key)
    elif handoff.mode == "channel" and team.channel:
        await outbox.post(session, services, card, to_channel=team.channel, key=key)
    elif agreement.channels.managers:
        # Nobody could take it: the managers see it rather than nobody.
        await outbox.post(session, services, card, to_channel=agreement.channels.managers, key=key)
    else:
        # No managers channel either: the team's first manager (else the first admin) by DM, so the
        # lead still reaches a person. One person: a card key tracks one message per platform.
        people = fallback_people(services, team.name)
        if people:
            await outbox.post(session, services, card, to_person=people[0], key=key)


async def audit(session: AsyncSession, services: Services, move: Move) -> None:
    """The transition's audit event (and with it the CRM webhook, when subscribed)."""
    rule = move.rule
    if rule.action is None:
        return
    if rule.also is not None:
        await events.record(session, services, move.lead, move.actor, rule.also, move.before, dict(move.after))
    after = {**move.after, "note": move.note} if move.note is not None else move.after
    await events.record(session, services, move.lead, move.actor, rule.action, move.before, after or None)


async def _webhook(session: AsyncSession, services: Services, move: Move) -> None:
    """Nothing to do here: ``audit`` enqueues the webhook (``events.WEBHOOK_EVENTS``)."""


async def _refresh(session: AsyncSession, services: Services, move: Move) -> None:
    await refresh_card(session, services, move.lead, _offer(move))


def resolution(services: Services, move: Move) -> str:
    """What became of the offer, as its notices say it afterwards."""
    at = local_time(services.agreement, None, move.at or services.clock.now())
    who = actor_name(services.agreement, move.actor)
    if move.transition is Transition.REASSIGN:
        new = move.new_offer
        if new is not None and new.rep:
            to = person_name(services.agreement, new.rep)
        elif new is not None and new.mode == "channel":
            to = _("notice.resolved.team_channel", team=new.team)
        else:
            to = _("notice.resolved.managers_channel")
        return _("notice.resolved.reassigned", to=to, who=who, at=at)
    return _(_RESOLVED.get(move.transition, N_("notice.resolved.closed")), who=who, at=at)


_RESOLVED = {
    Transition.ACCEPT: N_("notice.resolved.accepted"),
    Transition.TAKE_OVER: N_("notice.resolved.taken_over"),
    Transition.REJECT: N_("notice.resolved.rejected"),
    Transition.UNREACHABLE: N_("notice.resolved.unreachable"),
}


async def _update_notices(session: AsyncSession, services: Services, move: Move) -> None:
    await notices.settle(session, services, _offer(move), resolution(services, move))


async def _tell_marketing(session: AsyncSession, services: Services, move: Move) -> None:
    channel = services.agreement.channels.marketing_feedback
    if not channel:
        return
    lead, handoff = move.lead, _offer(move)
    if move.transition is Transition.REJECT:
        from handlers.handoff.reject import feedback_notice

        reason = services.agreement.reason(str(move.after.get("reason")))
        label = reason.label if reason else str(move.after.get("reason"))
        note = move.after.get("note")
        notice = feedback_notice(services, lead, move.actor, label, str(note) if note else None)
        await outbox.post(session, services, notice, to_channel=channel, key=f"feedback:{lead.id}:{handoff.id}")
        return
    notice = Notice(
        title=_("notice.unreachable", lead=lead_name(lead)),
        mention=person_ref(services.agreement, move.actor),
        lines=[_("notice.unreachable_why")],
        fields=[
            Field(label=_("notice.fact.attempts"), value=str(move.after.get("attempts"))),
            Field(label=_("card.fact.source"), value=str(lead.source or "—")),
        ],
        context=_("notice.lead_context", id=lead.external_id),
    )
    await outbox.post(session, services, notice, to_channel=channel, key=f"unreachable:{lead.id}")


RUN: dict[Effect, Run] = {
    Effect.CANCEL_ACCEPT_TIMER: _cancel_accept,
    Effect.CANCEL_FIRST_TOUCH_TIMER: _cancel_first_touch,
    Effect.CANCEL_ALL_TIMERS: _cancel_all,
    Effect.START_ACCEPT_TIMER: _start_accept,
    Effect.START_FIRST_TOUCH_TIMER: _start_first_touch,
    Effect.NEW_OFFER: _new_offer,
    Effect.POST_OFFER: _post_offer,
    Effect.WEBHOOK: _webhook,
    Effect.REFRESH_CARD: _refresh,
    Effect.UPDATE_NOTICES: _update_notices,
    Effect.TELL_MARKETING: _tell_marketing,
}
assert set(RUN) == set(Effect), "every effect of the table has its function"
