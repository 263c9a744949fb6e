"""What happens after acceptance: Log call, Log email, Meeting booked (→ SQL) and Unreachable."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.followup.cadence import cadence_met
from handlers.handoff import lifecycle
from handlers.handoff.access import OfferContext, load_offer
from handlers.handoff.outcome import Outcome
from handlers.people import person_ref
from handlers.services import Services
from handlers.text import N_, _
from handlers.text.refusals import RefusalCode, refuse
from handlers.views.actions import Action, ButtonData
from scoring.agreement import Stage
from store.models import Handoff, HandoffState, Lead, Touch

_KIND = {Action.LOG_CALL: "call", Action.LOG_EMAIL: "email", Action.MEETING_BOOKED: "meeting"}
# The history line already says who logged it ("Touch logged by Alice"); the note says what.
_NOTE = {
    "call": N_("audit.note.touch.call"),
    "email": N_("audit.note.touch.email"),
    "meeting": N_("audit.note.touch.meeting"),
}
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
    services.wake_delivery()
    return outcome


async def record_touch(
    session: AsyncSession, services: Services, lead: Lead, handoff: Handoff, actor: str, kind: str, touch: Touch
) -> Outcome:
    """A touch logged outside chat (the touches API, a source): what the button does, with the
    ``touch`` row the caller built (its time, outcome and CRM id). The caller checks who may."""
    action = next(a for a, k in _KIND.items() if k == kind)
    return await _touch(session, services, lead, handoff, actor, action, touch)


async def _touch(
    session: AsyncSession,
    services: Services,
    lead: Lead,
    handoff: Handoff,
    actor: str,
    action: Action,
    touch: Touch | None = None,
) -> Outcome:
    now = services.clock.now()
    kind = _KIND[action]
    session.add(touch or Touch(lead_id=lead.id, rep=actor, kind=kind, created_at=now))
    if lead.first_touch_at is None:
        lead.first_touch_at = touch.created_at if touch is not None else now
    before = {"stage": lead.stage}
    lead.updated_at = now
    touched = lifecycle.Move(
        lifecycle.Transition.TOUCH,
        lead,
        handoff,
        actor,
        before=before,
        after={"kind": kind, "note": _(_NOTE[kind])},
    )
    if action is Action.MEETING_BOOKED and lead.stage != Stage.SQL:
        lead.sql_at = now
        booked = lifecycle.Move(
            lifecycle.Transition.SQL, lead, handoff, actor, to=Stage.SQL, before=before, after={"stage": Stage.SQL}
        )
        await lifecycle.apply(session, services, touched, booked)
        return Outcome.done(_("done.meeting_booked", stage=services.agreement.stages.text[Stage.SQL].label))
    await lifecycle.apply(session, services, touched)
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
    lead.finished_at, lead.updated_at = now, now
    move = lifecycle.Move(
        lifecycle.Transition.UNREACHABLE,
        lead,
        handoff,
        actor,
        to=Stage.UNREACHABLE,
        before=before,
        after={"stage": Stage.UNREACHABLE, "attempts": progress, "source": source},
    )
    await lifecycle.apply(session, services, move)
    return Outcome.done(_("done.unreachable"))
