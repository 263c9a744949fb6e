"""``lead <email | CRM id | number>``: one lead's stage, owner, score breakdown, routing and history."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.names import lead_name
from handlers.queries import roles
from handlers.queries.history import action_words, actor_words
from handlers.queries.render import person_name, when
from handlers.queries.roles import Viewer
from handlers.services import Services
from handlers.text import _
from handlers.text.routing import step_text, why_text
from handlers.text.score import detail_text
from handlers.views.lead_card import ScoreLineView, score_line
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
    lines = [
        score_line(
            ScoreLineView(
                rule=line["rule"], kind=line["kind"], points=line["points"], detail=detail_text(line.get("detail"))
            )
        )
        for line in explanation.get("lines", [])
    ]
    lines += [_("lookup.disqualified", reason=reason) for reason in explanation.get("disqualifiers", [])]
    if explanation.get("missing_fields"):
        lines.append(_("lookup.missing_fields", fields=", ".join(explanation["missing_fields"])))
    if explanation.get("fast_track_events"):
        lines.append(_("card.fast_tracked_by", events=", ".join(explanation["fast_track_events"])))
    return lines


def routing_lines(routing: dict[str, Any] | None) -> list[str]:
    if not routing:
        return []
    lines = [_("lookup.routing", step=step_text(step)) for step in routing.get("trace", [])]
    lines += [
        _("lookup.skipped", email=s.get("email"), reason=why_text(s.get("reason", "")))
        for s in routing.get("skipped", [])
    ]
    return lines


def _history_line(agreement: Agreement, event: AuditEvent) -> str:
    what = action_words(event.action, actor_words(agreement, event.actor))
    detail = (event.after or {}).get("reason") or (event.after or {}).get("note")
    at = when(agreement, None, event.at)
    return (
        _("history.line_detail", when=at, what=what, detail=detail) if detail else _("history.line", when=at, what=what)
    )


def _owner(agreement: Agreement, lead: Lead) -> str:
    if lead.owner:
        return person_name(agreement, lead.owner)
    if lead.stage == Stage.DISQUALIFIED:
        return _("lookup.not_routed_disqualified")
    return _("lookup.nobody_yet")


async def answer_lead(services: Services, key: str, viewer: Viewer) -> Notice:
    agreement = services.agreement
    async with services.db.read() as session:
        lead = await find_lead(session, key)
        if lead is None:
            return Notice(title=_("lookup.not_found", key=key), lines=[_("lookup.how")])
        handoffs = (await session.scalars(select(Handoff).where(Handoff.lead_id == lead.id).order_by(Handoff.id))).all()
        offered_to = {h.rep for h in handoffs if h.rep} | {h.decided_by for h in handoffs if h.decided_by}
        if lead.owner:
            offered_to.add(lead.owner)
        if not roles.may_see_lead(agreement, viewer, lead.team, offered_to):
            team = agreement.team(lead.team or "")
            managers = ", ".join(m.name for m in team.managers) if team else _("lookup.the_managers")
            return Notice(title=_("lookup.refused"), lines=[_("lookup.who_may_see", managers=managers)])
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
    threshold = explanation.get("threshold", "?")
    fields = [
        Field(label=_("lookup.stage"), value=stage),
        Field(label=_("lookup.owner"), value=_owner(agreement, lead)),
        Field(label=_("lookup.team"), value=lead.team or _("lookup.not_routed")),
        Field(label=_("lookup.score"), value=_("lookup.score_value", score=lead.score, threshold=threshold)),
    ]
    open_offer = next((h for h in handoffs if h.state == HandoffState.OFFERED), None)
    if open_offer is not None:
        to = person_name(agreement, open_offer.rep) if open_offer.rep else _("lookup.to_team", team=open_offer.team)
        if open_offer.due_at:
            to = _("lookup.accept_by", to=to, when=when(agreement, open_offer.rep, open_offer.due_at))
        fields.append(Field(label=_("lookup.open_offer"), value=to))
    if lead.source or lead.campaign:
        fields.append(Field(label=_("lookup.source"), value=" / ".join(p for p in (lead.source, lead.campaign) if p)))
    return Notice(
        title=_("lookup.title", id=lead.id, name=lead_name(lead, company=True)),
        fields=fields,
        lines=[
            *score_lines(explanation),
            *routing_lines(lead.routing),
            *([_("lookup.history")] if history else []),
            *[_history_line(agreement, e) for e in history],
        ],
        context=_("lookup.crm_id", id=lead.external_id),
    )
