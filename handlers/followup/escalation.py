"""The messages an SLA step sends: the nudge to the rep, the escalation to the managers.

Each step also appends its audit event and refreshes the lead card, so the card
carries the running history ("Reminder sent", "Escalated to the manager").
Everything happens in the caller's transaction: the timer's firing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers import names
from handlers.audit import AuditAction
from handlers.followup import sla
from handlers.handoff.cards import card_key, local_time, refresh_card
from handlers.handoff.notices import post_notice
from handlers.messaging import events
from handlers.people import person_ref
from handlers.services import Services
from handlers.text import _, n_
from handlers.views.actions import Action, Button, ButtonData, Choice
from handlers.views.lead_card import follow_up_buttons, offer_buttons
from handlers.views.notice import Field, Notice
from scoring.agreement import Agreement, Rep, Team
from store.models import Handoff, Lead, RepState

# The actor of automatic steps in the audit trail (defined with the names people read).
SLA_ACTOR = names.SLA_ACTOR


def lead_name(lead: Lead) -> str:
    return names.lead_name(lead, company=True)


def elapsed(delta: timedelta) -> str:
    minutes = max(0, round(delta.total_seconds() / 60))
    if minutes < 120:
        return _("unit.minutes", n=minutes)
    if minutes < 48 * 60:
        return _("unit.hours", n=minutes // 60)
    return n_("unit.days_long", minutes // (24 * 60))


def manager_emails(agreement: Agreement, handoff: Handoff) -> list[str]:
    """The team's managers, plus the rep's own manager if the config names another one."""
    team = agreement.team(handoff.team)
    emails = [m.email.lower() for m in team.managers] if team else []
    found = agreement.rep(handoff.rep) if handoff.rep else None
    if found and found[1].manager and found[1].manager.lower() not in emails:
        emails.append(found[1].manager.lower())
    return emails


def _on_leave(rep: Rep, today: date) -> bool:
    return any(today in period for period in rep.out_of_office)


async def eligible_reps(
    session: AsyncSession, services: Services, team: Team, exclude: Iterable[str | None] = ()
) -> list[Rep]:
    """Reps of ``team`` who could take a lead now: not excluded, not out of office (flag or config dates)."""
    skip = {e.lower() for e in exclude if e}
    away = set((await session.scalars(select(RepState.email).where(RepState.out_of_office))).all())
    now = services.clock.now()
    return [
        r
        for r in team.reps
        if r.email.lower() not in skip
        and r.email.lower() not in away
        and not _on_leave(r, now.astimezone(ZoneInfo(r.timezone)).date())
    ]


def manager_buttons(handoff: Handoff, choices: list[Rep]) -> list[Button]:
    """Reassign (a picker of the team's other eligible reps) and Take over."""
    value = ButtonData(lead_id=handoff.lead_id, handoff_id=handoff.id).pack()
    buttons = []
    if choices:
        buttons.append(
            Button(
                action=Action.REASSIGN,
                label=_("button.reassign"),
                value=value,
                choices=[Choice(label=r.name, value=r.email.lower()) for r in choices],
            )
        )
    buttons.append(Button(action=Action.TAKE_OVER, label=_("button.take_over"), value=value, style="primary"))
    return buttons


def _fields(lead: Lead) -> list[Field]:
    fields = [Field(label=_("card.fact.score"), value=str(lead.score))]
    if lead.data.get("title"):
        fields.append(Field(label=_("notice.fact.title"), value=str(lead.data["title"])))
    return fields


async def tell_managers(
    session: AsyncSession, services: Services, handoff: Handoff, notice: Notice, dedupe: str
) -> list[str]:
    """DM every manager and post to the managers channel, notifying the managers; returns their emails.

    Each copy is a live notice (``handlers.handoff.notices``): the lifecycle updates it when the
    offer is settled."""
    managers = manager_emails(services.agreement, handoff)
    notice = notice.model_copy(
        update={"notify": [ref for ref in (person_ref(services.agreement, m) for m in managers) if ref]}
    )
    for email in managers:
        await post_notice(session, services, handoff, notice, f"{dedupe}:dm:{email}", to_person=email)
    channel = services.agreement.channels.managers
    if channel is not None:
        await post_notice(session, services, handoff, notice, f"{dedupe}:managers", to_channel=channel)
    return managers


async def nudge(
    session: AsyncSession, services: Services, lead: Lead, handoff: Handoff, chain: sla.Chain, dedupe: str
) -> None:
    """Remind whoever holds the lead: the offered rep (or the channel), or the owner after acceptance."""
    agreement, now = services.agreement, services.clock.now()
    start = sla.chain_start(handoff, chain)
    who = sla.chain_rep(handoff, chain)
    due = sla.deadline(start, sla.frozen_policy(handoff), chain, sla.calendar_for(agreement, who))
    if chain == "accept":
        title = _("nudge.accept.title", lead=lead_name(lead))
        line = _("nudge.accept.line", elapsed=elapsed(now - start))
    else:
        title = _("nudge.first_touch.title", lead=lead_name(lead))
        line = _("nudge.first_touch.line", elapsed=elapsed(now - start))
    if due:
        line = _("nudge.with_deadline", line=line, deadline=local_time(agreement, who, due))
    mention = person_ref(agreement, who)
    # The card's own buttons, so the reminder can be acted on where it is read.
    data = ButtonData(lead_id=lead.id, handoff_id=handoff.id)
    notice = Notice(
        title=title,
        mention=mention,
        lines=[line],
        fields=_fields(lead),
        buttons=offer_buttons(data, handoff.mode) if chain == "accept" else follow_up_buttons(data),
        link_key=card_key(handoff),
        context=_("notice.lead_context", id=lead.external_id),
        notify=[mention] if mention else [],
    )
    team = agreement.team(handoff.team)
    if who:
        await post_notice(session, services, handoff, notice, f"{dedupe}:dm:{who}", to_person=who)
        note = _("audit.note.to", who=person_ref(agreement, who).name)  # type: ignore[union-attr]
    elif team is not None and team.channel is not None and handoff.mode == "channel":
        await post_notice(session, services, handoff, notice, f"{dedupe}:team", to_channel=team.channel)
        note = _("audit.note.to_team_channel", team=team.name)
    elif agreement.channels.managers is not None:
        await post_notice(
            session, services, handoff, notice, f"{dedupe}:managers", to_channel=agreement.channels.managers
        )
        note = _("audit.note.to_managers_channel")
    else:
        note = _("audit.note.nobody_to_remind")
    await events.record(
        session,
        services,
        lead,
        SLA_ACTOR,
        AuditAction.SLA_NUDGED,
        None,
        {"handoff_id": handoff.id, "chain": chain, "to": who, "note": note},
    )
    await refresh_card(session, services, lead, handoff)


def _escalation_text(
    agreement: Agreement, lead: Lead, handoff: Handoff, chain: sla.Chain, now: datetime, detail: str | None
) -> tuple[str, list[str]]:
    who = sla.chain_rep(handoff, chain)
    ref = person_ref(agreement, who)
    name = ref.name if ref else _("escalation.team_channel", team=handoff.team)
    start = sla.chain_start(handoff, chain)
    at, took = local_time(agreement, who, start), elapsed(now - start)
    if chain == "accept":
        return (
            _("escalation.accept.title", lead=lead_name(lead)),
            [_("escalation.accept.line", name=name, time=at, elapsed=took), _("escalation.accept.ask")],
        )
    if chain == "first_touch":
        return (
            _("escalation.first_touch.title", lead=lead_name(lead)),
            [_("escalation.first_touch.line", name=name, time=at, elapsed=took)],
        )
    return (
        _("escalation.cadence.title", lead=lead_name(lead)),
        [_("escalation.cadence.line", name=name, elapsed=took, detail=detail or _("escalation.cadence.too_few"))],
    )


async def escalate(
    session: AsyncSession,
    services: Services,
    lead: Lead,
    handoff: Handoff,
    chain: sla.Chain,
    dedupe: str,
    detail: str | None = None,
) -> None:
    """Tell the team's managers (DM and managers channel); an open offer gets Reassign/Take over buttons."""
    agreement = services.agreement
    title, lines = _escalation_text(agreement, lead, handoff, chain, services.clock.now(), detail)
    buttons: list[Button] = []
    team = agreement.team(handoff.team)
    if chain == "accept" and team is not None:
        others = await eligible_reps(session, services, team, [handoff.rep, *handoff.previous_reps])
        buttons = manager_buttons(handoff, others)
    notice = Notice(
        title=title,
        mention=person_ref(agreement, sla.chain_rep(handoff, chain)),
        lines=lines,
        fields=_fields(lead),
        buttons=buttons,
        link_key=card_key(handoff),
        context=_("notice.lead_team_context", id=lead.external_id, team=handoff.team),
    )
    managers = await tell_managers(session, services, handoff, notice, dedupe)
    names = [p.name for p in (person_ref(agreement, m) for m in managers) if p]
    note = _("audit.note.to", who=", ".join(names)) if names else _("audit.note.to_managers_channel")
    if detail:
        note = _("audit.note.with_detail", note=note, detail=detail)
    await events.record(
        session,
        services,
        lead,
        SLA_ACTOR,
        AuditAction.SLA_ESCALATED,
        None,
        {"handoff_id": handoff.id, "chain": chain, "to": managers, "note": note},
    )
    await refresh_card(session, services, lead, handoff)
