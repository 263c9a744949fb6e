"""What happens after acceptance: Log call, Log email, Meeting booked (→ SQL) and Unreachable."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.audit import AuditAction
from handlers.followup import sla
from handlers.followup.cadence import cadence_met
from handlers.handoff import lifecycle
from handlers.handoff.access import OfferContext, load_offer
from handlers.handoff.cards import lead_name, refresh_card
from handlers.handoff.outcome import Outcome
from handlers.messaging import events, outbox
from handlers.people import person_ref
from handlers.services import Services
from handlers.text import N_, _
from handlers.text.refusals import RefusalCode, refuse
from handlers.views.actions import Action, ButtonData
from handlers.views.notice import Field, Notice
from scoring.agreement import Stage
from store.models import Handoff, HandoffState, Lead, Touch

_KIND = {Action.LOG_CALL: "call", Action.LOG_EMAIL: "email", Action.MEETING_BOOKED: "meeting"}
_LOGGED = {"call": N_("done.logged_call"), "email": N_("done.logged_email"), "meeting": N_("done.logged_meeting")}


def _may_work(services: Services, lead: Lead, actor: str) -> bool:
    if lead.owner == actor:
        return True
    return bool(lead.team and any(t.name == lead.team for t in services.agreement.managed_teams(actor)))


async def log_touch(services: Services, data: ButtonData, actor_email: str, action: Action, source: str) -> Outcome:
    """Record a touch or a stage change on an accepted lead; only its owner (or their manager) may."""
    actor = actor_email.lower()
    if action not in (*_KIND, Action.UNREACHABLE):
        return refuse(RefusalCode.NOTHING_TO_LOG)
    async with services.db.transaction() as session:
        found = await load_offer(session, services, data)
        if not isinstance(found, OfferContext):
            return found
        lead, handoff = found.lead, found.handoff
        if handoff.state != HandoffState.ACCEPTED:
            return refuse(RefusalCode.ACCEPT_FIRST)
        if not _may_work(services, lead, actor):
            owner = person_ref(services.agreement, lead.owner)
            return refuse(RefusalCode.BELONGS_TO, name=owner.name if owner else _("person.someone_else"))
        if lead.stage not in (Stage.SAL, Stage.SQL):
            return refuse(RefusalCode.ALREADY_AT_STAGE, stage=lead.stage)
        if action is Action.UNREACHABLE:
            outcome = await _unreachable(session, services, lead, handoff, actor, source)
        else:
            outcome = await _touch(session, services, lead, handoff, actor, action)
        if outcome.ok:
            await refresh_card(session, services, lead, handoff)
    services.wake_delivery()
    return outcome


async def _touch(
    session: AsyncSession, services: Services, lead: Lead, handoff: Handoff, actor: str, action: Action
) -> Outcome:
    now = services.clock.now()
    kind = _KIND[action]
    session.add(Touch(lead_id=lead.id, rep=actor, kind=kind, created_at=now))
    if lead.first_touch_at is None:
        lead.first_touch_at = now
        await sla.cancel_timers(session, handoff.id, "first_touch")
    before = {"stage": lead.stage}
    lead.updated_at = now
    who = person_ref(services.agreement, actor)
    await events.record(
        session,
        services,
        lead,
        actor,
        AuditAction.TOUCHED,
        before,
        {"kind": kind, "note": f"{kind} by {who.name if who else actor}"},
    )
    if action is Action.MEETING_BOOKED and lead.stage != Stage.SQL:
        lifecycle.move_lead(lead, lifecycle.Transition.SQL, Stage.SQL)
        lead.sql_at = now
        await events.record(session, services, lead, actor, AuditAction.SQL, before, {"stage": Stage.SQL})
        return Outcome.done(_("done.meeting_booked", stage=services.agreement.stages.text[Stage.SQL].label))
    return Outcome.done(_(_LOGGED[kind]))


async def _unreachable(
    session: AsyncSession, services: Services, lead: Lead, handoff: Handoff, actor: str, source: str
) -> Outcome:
    """Only after the agreed attempts; the lead goes to marketing's unreachable nurture programme."""
    met, progress = await cadence_met(session, services.agreement, lead, handoff)
    if not met:
        return refuse(RefusalCode.NOT_YET_UNREACHABLE, progress=progress)
    now = services.clock.now()
    before = {"stage": lead.stage}
    lifecycle.move_lead(lead, lifecycle.Transition.UNREACHABLE, Stage.UNREACHABLE)
    lead.finished_at, lead.updated_at = now, now
    await sla.cancel_timers(session, handoff.id)
    await events.record(
        session,
        services,
        lead,
        actor,
        AuditAction.UNREACHABLE,
        before,
        {"stage": Stage.UNREACHABLE, "attempts": progress, "source": source},
    )
    channel = services.agreement.channels.marketing_feedback
    if channel:
        notice = Notice(
            title=_("notice.unreachable", lead=lead_name(lead)),
            mention=person_ref(services.agreement, actor),
            lines=[_("notice.unreachable_why")],
            fields=[
                Field(label=_("notice.fact.attempts"), value=progress),
                Field(label=_("card.fact.source"), value=str(lead.source or "—")),
            ],
            context=_("notice.lead_context", id=lead.external_id),
        )
        await outbox.post(session, services, notice, to_channel=channel, key=f"unreachable:{lead.id}")
    return Outcome.done(_("done.unreachable"))
