"""What happens when a rep rejects a lead: the reason form, the feedback, and the word to marketing."""

from __future__ import annotations

from dataclasses import dataclass, field

from handlers.handoff import lifecycle
from handlers.handoff.access import OfferContext, closed_offer, decide, load_offer, may_take
from handlers.handoff.cards import lead_name
from handlers.handoff.outcome import Outcome
from handlers.people import person_ref
from handlers.services import Services
from handlers.text import _
from handlers.text.refusals import RefusalCode, refusal_text
from handlers.views.actions import ButtonData, Choice
from handlers.views.notice import Field, Notice
from handlers.views.reject_form import RejectForm
from scoring.agreement import Stage
from store.models import Feedback, HandoffState, Lead

NOTE_MAX = 2000


@dataclass
class RejectResult:
    ok: bool
    message: str
    errors: dict[str, str] = field(default_factory=dict)  # form field ("reason", "note") -> problem


async def reject_form(services: Services, data: ButtonData, actor_email: str) -> RejectForm | Outcome:
    """The form to show, or why this person cannot reject this lead (checked before opening it)."""
    async with services.db.transaction() as session:
        found = await load_offer(session, services, data)
        if not isinstance(found, OfferContext):
            return found
        if found.handoff.state != HandoffState.OFFERED:
            return await closed_offer(session, services, found.handoff, actor_email)
        refusal = may_take(services, found.handoff, actor_email)
        if refusal:
            return refusal
        reasons = services.agreement.rejection_reasons
        return RejectForm(
            lead_id=found.lead.id,
            handoff_id=found.handoff.id,
            value=data.pack(),
            lead_name=lead_name(found.lead),
            company=found.lead.data.get("company"),
            reasons=[Choice(label=r.label, value=r.code) for r in reasons],
            note_required=[r.code for r in reasons if r.note_required],
            note_max=NOTE_MAX,
        )


def validate(services: Services, reason: str | None, note: str | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    found = services.agreement.reason(reason) if reason else None
    if not reason:
        errors["reason"] = _("reject.error.choose_reason")
    elif found is None:
        errors["reason"] = _("reject.error.unknown_reason", reason=reason)
    note = (note or "").strip()
    if found and found.note_required and not note:
        errors["note"] = _("reject.error.note_required", reason=found.label)
    if len(note) > NOTE_MAX:
        errors["note"] = _("reject.error.note_too_long", limit=NOTE_MAX, length=len(note))
    return errors


async def reject(
    services: Services, data: ButtonData, actor_email: str, reason: str | None, note: str | None, source: str
) -> RejectResult:
    actor = actor_email.lower()
    errors = validate(services, reason, note)
    if errors:
        return RejectResult(False, refusal_text(RefusalCode.FIX_THE_FORM), errors)
    assert reason is not None
    rejection = services.agreement.reason(reason)
    assert rejection is not None
    note = (note or "").strip() or None
    async with services.db.transaction() as session:
        found = await load_offer(session, services, data)
        if not isinstance(found, OfferContext):
            return RejectResult(False, found.message)
        lead, handoff = found.lead, found.handoff
        refusal = (
            await closed_offer(session, services, handoff, actor)
            if handoff.state != HandoffState.OFFERED
            else may_take(services, handoff, actor)
        )
        if refusal:
            return RejectResult(False, refusal.message)
        now = services.clock.now()
        if not await decide(session, handoff, lifecycle.Transition.REJECT, actor, now):
            return RejectResult(False, (await closed_offer(session, services, handoff, actor)).message)
        before = {"stage": lead.stage}
        to = Stage.RECYCLED if rejection.outcome == "recycle" else Stage.DISQUALIFIED
        lead.finished_at, lead.updated_at = now, now
        session.add(
            Feedback(
                lead_id=lead.id,
                handoff_id=handoff.id,
                rep=actor,
                reason=rejection.code,
                outcome=rejection.outcome,
                note=note,
                source=lead.source,
                campaign=lead.campaign,
                created_at=now,
            )
        )
        after = {"stage": to, "reason": rejection.code, "note": note, "source": source}
        move = lifecycle.Move(lifecycle.Transition.REJECT, lead, handoff, actor, to=to, before=before, after=after)
        await lifecycle.apply(session, services, move)
        stage_label = services.agreement.stages.text[Stage(lead.stage)].label
    services.wake_delivery()
    return RejectResult(True, _("done.rejected", reason=rejection.label, stage=stage_label))


def feedback_notice(services: Services, lead: Lead, actor: str, reason_label: str, note: str | None) -> Notice:
    data = lead.data
    fields = [Field(label=_("feedback.reason"), value=reason_label)]
    if note:
        fields.append(Field(label=_("define.note"), value=note))
    fields += [
        Field(label=label, value=str(value))
        for label, value in (
            (_("card.fact.score"), lead.score),
            (_("card.fact.source"), data.get("source")),
            (_("card.fact.campaign"), data.get("campaign")),
            (_("notice.fact.title"), data.get("title")),
            (_("notice.fact.company"), data.get("company")),
        )
        if value not in (None, "")
    ]
    return Notice(
        title=_("notice.lead_rejected", lead=lead_name(lead)),
        mention=person_ref(services.agreement, actor),
        fields=fields,
        context=_("notice.lead_context", id=lead.external_id),
    )
