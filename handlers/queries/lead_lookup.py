"""``lead <email | CRM id | number>``: one lead's stage, owner, score breakdown, routing and history."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.names import lead_name
from handlers.queries import roles
from handlers.queries.render import person_name, when
from handlers.queries.roles import Viewer
from handlers.services import Services
from handlers.views.notice import Field, Notice
from scoring.agreement import Agreement, Stage
from store.models import AuditEvent, Handoff, HandoffState, Lead

HISTORY = 12
# Slack turns a typed email into <mailto:a@b.example|a@b.example>.
_MAILTO = re.compile(r"^<mailto:([^|>]+)(?:\|[^>]*)?>$")


async def find_lead(session: AsyncSession, key: str) -> Lead | None:
    key = key.strip()
    mailto = _MAILTO.match(key)
    if mailto:
        key = mailto.group(1)
    if "@" in key:
        return await session.scalar(select(Lead).where(Lead.email == key.lower()))
    if key.isdigit():
        found = (
            await session.scalars(
                select(Lead)
                .where(or_(Lead.external_id == key, Lead.id == int(key)))
                .order_by((Lead.external_id == key).desc())
                .limit(1)
            )
        ).first()
        return found
    return await session.scalar(select(Lead).where(Lead.external_id == key))


def score_lines(explanation: dict[str, Any]) -> list[str]:
    lines = [f"{line['points']:+d} {line['rule']} ({line['detail']})" for line in explanation.get("lines", [])]
    lines += [f"Disqualified: {reason}" for reason in explanation.get("disqualifiers", [])]
    if explanation.get("missing_fields"):
        lines.append(f"Missing required fields: {', '.join(explanation['missing_fields'])}")
    if explanation.get("fast_track_events"):
        lines.append(f"Fast-tracked by: {', '.join(explanation['fast_track_events'])}")
    return lines


def routing_lines(routing: dict[str, Any] | None) -> list[str]:
    if not routing:
        return []
    lines = [f"Routing: {step}" for step in routing.get("trace", [])]
    lines += [f"Skipped {s.get('email')}: {s.get('reason')}" for s in routing.get("skipped", [])]
    return lines


def _history_line(agreement: Agreement, event: AuditEvent) -> str:
    actor = person_name(agreement, event.actor) if "@" in event.actor else event.actor
    detail = (event.after or {}).get("reason") or (event.after or {}).get("note")
    return f"{when(agreement, None, event.at)}: {event.action} by {actor}{f' ({detail})' if detail else ''}"


async def answer_lead(services: Services, key: str, viewer: Viewer) -> Notice:
    agreement = services.agreement
    async with services.db.read() as session:
        lead = await find_lead(session, key)
        if lead is None:
            return Notice(
                title=f"I can't find a lead “{key}”.",
                lines=["Look a lead up by email, by its CRM id or by Baton's number."],
            )
        handoffs = (await session.scalars(select(Handoff).where(Handoff.lead_id == lead.id).order_by(Handoff.id))).all()
        offered_to = {h.rep for h in handoffs if h.rep} | {h.decided_by for h in handoffs if h.decided_by}
        if lead.owner:
            offered_to.add(lead.owner)
        if not roles.may_see_lead(agreement, viewer, lead.team, offered_to):
            team = agreement.team(lead.team or "")
            managers = ", ".join(m.name for m in team.managers) if team else "the managers"
            return Notice(
                title="Sorry, I can't show you that lead.",
                lines=[
                    f"A lead is visible to the reps it was offered to, its team's managers ({managers}), "
                    "marketing and the admins."
                ],
            )
        history = list(
            reversed(
                (
                    await session.scalars(
                        select(AuditEvent)
                        .where(AuditEvent.lead_id == lead.id)
                        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                        .limit(HISTORY)
                    )
                ).all()
            )
        )
    stage = agreement.stages.text[Stage(lead.stage)].label if lead.stage in set(Stage) else lead.stage
    explanation = lead.explanation or {}
    fields = [
        Field(label="Stage", value=stage),
        Field(label="Owner", value=person_name(agreement, lead.owner) if lead.owner else "nobody yet"),
        Field(label="Team", value=lead.team or "not routed"),
        Field(label="Score", value=f"{lead.score} (threshold {explanation.get('threshold', '?')})"),
    ]
    open_offer = next((h for h in handoffs if h.state == HandoffState.OFFERED), None)
    if open_offer is not None:
        to = person_name(agreement, open_offer.rep) if open_offer.rep else f"team {open_offer.team}"
        due = f", accept by {when(agreement, open_offer.rep, open_offer.due_at)}" if open_offer.due_at else ""
        fields.append(Field(label="Open offer", value=f"{to}{due}"))
    if lead.source or lead.campaign:
        fields.append(Field(label="Source", value=" / ".join(p for p in (lead.source, lead.campaign) if p)))
    return Notice(
        title=f"Lead #{lead.id}: {lead_name(lead, company=True)}",
        fields=fields,
        lines=[
            *score_lines(explanation),
            *routing_lines(lead.routing),
            *(["History:"] if history else []),
            *[_history_line(agreement, e) for e in history],
        ],
        context=f"CRM id {lead.external_id}",
    )
