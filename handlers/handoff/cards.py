"""Build the lead card view-model from what the store holds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers import names
from handlers.audit import AuditAction
from handlers.messaging import outbox
from handlers.names import actor_name
from handlers.people import PersonRef, person_ref
from handlers.services import Services
from handlers.text import _
from handlers.text.score import detail_text
from handlers.views.actions import ButtonData
from handlers.views.lead_card import LeadCard, ScoreLineView, follow_up_buttons, offer_buttons
from scoring.agreement import Agreement, Stage
from store.models import AuditEvent, Handoff, HandoffState, Lead
from store.rows import buffer_of

# Card status by lead stage once the offer is no longer open.
_STATUS_BY_STAGE = {Stage.SQL: "sql", Stage.UNREACHABLE: "unreachable"}


def card_key(handoff: Handoff) -> str:
    return f"lead:{handoff.lead_id}:card:{handoff.id}"


def local_time(agreement: Agreement, email: str | None, at: datetime, fmt: str = "%a %H:%M %Z") -> str:
    person = agreement.person_by(email=email) if email else None
    zone = ZoneInfo(person.timezone if person else agreement.digest.timezone)
    return at.astimezone(zone).strftime(fmt)


def minutes_between(start: datetime, end: datetime) -> int:
    return max(0, round((end - start).total_seconds() / 60))


def lead_name(lead: Lead) -> str:
    return names.lead_name(lead)


def build_card(agreement: Agreement, lead: Lead, handoff: Handoff, notes: list[str] | None = None) -> LeadCard:
    """The card for ``handoff`` as things stand now."""
    data = lead.data
    explanation = lead.explanation
    name = lead_name(lead)
    buttons_for = ButtonData(lead_id=lead.id, handoff_id=handoff.id)
    status: str = handoff.state
    buttons = []
    status_by = person_ref(agreement, handoff.decided_by)
    if status_by is None and handoff.state == HandoffState.REASSIGNED:
        # Nobody decided it: the SLA's reassign step did ("Baton (SLA)", not "someone").
        status_by = PersonRef(name=actor_name(agreement, None), email=names.SLA_ACTOR)
    status_text = None
    if handoff.state == HandoffState.OFFERED:
        buttons = offer_buttons(buttons_for, handoff.mode)
    elif handoff.state == HandoffState.ACCEPTED:
        status = _STATUS_BY_STAGE.get(Stage(lead.stage), "accepted")
        if status == "accepted":
            buttons = follow_up_buttons(buttons_for)
        if handoff.decided_at:
            status_text = _(
                "card.decided_after",
                time=local_time(agreement, handoff.decided_by, handoff.decided_at, "%H:%M %Z"),
                elapsed=_("unit.minutes", n=minutes_between(handoff.offered_at, handoff.decided_at)),
            )
    elif handoff.decided_at:
        status_text = _(
            "card.decided_at", time=local_time(agreement, handoff.decided_by, handoff.decided_at, "%H:%M %Z")
        )
    return LeadCard(
        lead_id=lead.id,
        handoff_id=handoff.id,
        name=name,
        email=lead.email or "",
        title=data.get("title"),
        company=data.get("company"),
        employees=data.get("employees"),
        industry=data.get("industry"),
        country=data.get("country"),
        source=data.get("source"),
        campaign=data.get("campaign"),
        score=lead.score,
        threshold=explanation.get("threshold", 0),
        explicit=explanation.get("explicit", 0),
        implicit=explanation.get("implicit", 0),
        lines=[
            ScoreLineView(**{**line, "detail": detail_text(line.get("detail"))})
            for line in explanation.get("lines", [])
        ],
        fast_track=lead.fast_track,
        fast_track_events=explanation.get("fast_track_events", []),
        stage_label=agreement.stages.text[Stage(lead.stage)].label,
        team=handoff.team,
        mode=handoff.mode,
        offered_to=person_ref(agreement, handoff.rep),
        due_at=handoff.due_at,
        due_text=local_time(agreement, handoff.rep, handoff.due_at) if handoff.due_at else None,
        status=status,
        status_by=status_by,
        status_text=status_text,
        notes=notes or [],
        buttons=buttons,
    )


_REFRESH = "cards.refresh"
_NOTE_ACTIONS = {
    AuditAction.SLA_NUDGED: "Reminder sent",
    AuditAction.SLA_ESCALATED: "Escalated to the manager",
    AuditAction.TOUCHED: "Touch logged",
    AuditAction.REASSIGNED: "Reassigned",
    AuditAction.TAKEN_OVER: "Taken over by the manager",
}


def _note(agreement: Agreement, handoff: Handoff, action: str, after: dict[str, object] | None, at: datetime) -> str:
    detail = (after or {}).get("note")
    when = local_time(agreement, handoff.rep or handoff.decided_by, at, "%a %H:%M")
    return f"{_NOTE_ACTIONS[AuditAction(action)]}{': ' + str(detail) if detail else ''} ({when})"


async def card_notes(session: AsyncSession, agreement: Agreement, handoff: Handoff) -> list[str]:
    """The card's running history since the offer: reminders, escalations, touches."""
    return (await _notes_of(session, agreement, [handoff]))[handoff.id]


async def _notes_of(session: AsyncSession, agreement: Agreement, handoffs: Sequence[Handoff]) -> dict[int, list[str]]:
    """Each handoff's card notes, read in one query for all of them."""
    by_lead: dict[int, list[Handoff]] = {}
    for handoff in handoffs:
        by_lead.setdefault(handoff.lead_id, []).append(handoff)
    since = min(h.offered_at for h in handoffs)
    rows = await session.execute(
        select(AuditEvent.lead_id, AuditEvent.action, AuditEvent.after, AuditEvent.at)
        .where(AuditEvent.lead_id.in_(by_lead), AuditEvent.action.in_(_NOTE_ACTIONS), AuditEvent.at >= since)
        .order_by(AuditEvent.id)
    )
    notes: dict[int, list[str]] = {h.id: [] for h in handoffs}
    for lead_id, action, after, at in rows.all():
        for handoff in by_lead[lead_id]:
            if at >= handoff.offered_at:
                notes[handoff.id].append(_note(agreement, handoff, action, after, at))
    return notes


async def refresh_cards(session: AsyncSession, services: Services, cards: Sequence[tuple[Lead, Handoff]]) -> None:
    """Re-render each handoff's card for everyone who has it: two queries however many cards."""
    if not cards:
        return
    notes = await _notes_of(session, services.agreement, [handoff for _lead, handoff in cards])
    await outbox.update_many(
        session,
        services,
        [
            (card_key(handoff), build_card(services.agreement, lead, handoff, notes[handoff.id]))
            for lead, handoff in cards
        ],
    )


async def refresh_card(session: AsyncSession, services: Services, lead: Lead, handoff: Handoff) -> None:
    """Re-render the card for everyone who has it.

    Inside a ``store.rows.buffered`` block the audit event that prompted the refresh is not
    written yet, so the refresh waits for the rows and is done once for the whole batch, from
    the leads' state at the end of it."""
    buffer = buffer_of(session)
    if buffer is None:
        await refresh_cards(session, services, [(lead, handoff)])
        return

    async def refresh_waiting(cards: list[tuple[Lead, Handoff]]) -> None:
        await refresh_cards(session, services, cards)

    buffer.collect(_REFRESH, refresh_waiting)[handoff.id] = (lead, handoff)
