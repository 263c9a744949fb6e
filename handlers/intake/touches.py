"""Touches from the CRM, the dialer or the email tool: ``POST /api/leads/{external_id}/touches``.

A call, email or meeting the rep logged elsewhere counts for the first-touch and cadence SLAs
exactly as the chat buttons do: the touch is recorded by ``handlers.handoff.touch.record_touch``
(a meeting moves the lead to SQL, the first touch cancels the first-touch nudges). The rep is
named by email or by their CRM user id (``crm_id`` on people) and must be the lead's owner or
one of its team's managers, as for the buttons. A touch with the CRM's ``id`` is stored once:
sending it again is answered "duplicate" and changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from handlers.handoff.cards import refresh_card
from handlers.handoff.touch import record_touch
from handlers.intake.touch_input import TouchIn
from handlers.services import Services
from handlers.text import _
from scoring.agreement import Agreement, Person, Stage
from store.models import Handoff, HandoffState, Lead, Touch

MAX_TOUCHES = 100


class TouchRefused(Exception):
    """Nothing was written: ``status`` and each problem as (field, message)."""

    def __init__(self, status: int, error: str, problems: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(error)
        self.status, self.error, self.problems = status, error, list(problems)


@dataclass
class TouchLogged:
    index: int
    status: str  # "logged" or "duplicate"
    kind: str
    rep: str

    def as_json(self) -> dict[str, Any]:
        return {"index": self.index, "status": self.status, "kind": self.kind, "rep": self.rep}


def find_rep(agreement: Agreement, touch: TouchIn) -> Person | None:
    if touch.rep is not None:
        return agreement.person_by(email=touch.rep)
    return next((p for p in agreement.people() if p.crm_id == touch.rep_crm_id), None)


def _may_work(agreement: Agreement, lead: Lead, email: str) -> bool:
    if lead.owner == email:
        return True
    return bool(lead.team and any(t.name == lead.team for t in agreement.managed_teams(email)))


async def log_touches(services: Services, external_id: str, touches: Sequence[TouchIn]) -> list[TouchLogged]:
    """Record ``touches`` on the accepted lead ``external_id``, all or none."""
    agreement = services.agreement
    now = services.clock.now()
    async with services.db.transaction() as session:
        lead = await session.scalar(select(Lead).where(Lead.external_id == external_id))
        if lead is None:
            raise TouchRefused(404, _("api.touches.no_lead", external_id=external_id))
        if lead.forgotten_at is not None:
            raise TouchRefused(410, _("api.touches.forgotten", external_id=external_id))
        handoff = await session.scalar(
            select(Handoff)
            .where(Handoff.lead_id == lead.id, Handoff.state == HandoffState.ACCEPTED)
            .order_by(Handoff.id.desc())
            .limit(1)
        )
        if handoff is None or lead.stage not in (Stage.SAL, Stage.SQL):
            raise TouchRefused(409, _("api.touches.not_accepted", external_id=external_id, stage=lead.stage))
        problems: list[tuple[str, str]] = []
        reps: list[str] = []
        for i, touch in enumerate(touches):
            field = "rep" if touch.rep is not None else "rep_crm_id"
            person = find_rep(agreement, touch)
            if person is None:
                message = _("api.touches.no_such_rep") if touch.rep else _("api.touches.no_such_crm_id")
                problems.append((f"[{i}].{field}", message))
                continue
            email = person.email.lower()
            if not _may_work(agreement, lead, email):
                problems.append((f"[{i}].{field}", _("api.touches.not_owner", name=person.name)))
            reps.append(email)
        if problems:
            raise TouchRefused(422, _("api.touches.invalid"), problems)
        ids = {t.id for t in touches if t.id is not None}
        stored = set()
        if ids:
            stored = set(
                await session.scalars(
                    select(Touch.external_id).where(Touch.lead_id == lead.id, Touch.external_id.in_(ids))
                )
            )
        since = handoff.decided_at or handoff.offered_at
        logged: list[TouchLogged] = []
        order = sorted(range(len(touches)), key=lambda i: touches[i].at or now)
        for i in order:
            touch, rep = touches[i], reps[i]
            if touch.id is not None and touch.id in stored:
                logged.append(TouchLogged(i, "duplicate", touch.kind, rep))
                continue
            if touch.id is not None:
                stored.add(touch.id)
            # A touch reported as later than now happened now; one before the acceptance counts from it.
            at = max(min(touch.at or now, now), since)
            row = Touch(
                lead_id=lead.id, rep=rep, kind=touch.kind, created_at=at, outcome=touch.outcome, external_id=touch.id
            )
            # The audit trail names the rep who made the touch, as for the buttons.
            await record_touch(session, services, lead, handoff, rep, touch.kind, row)
            logged.append(TouchLogged(i, "logged", touch.kind, rep))
        if any(t.status == "logged" for t in logged):
            await refresh_card(session, services, lead, handoff)
    services.wake_delivery()
    return sorted(logged, key=lambda t: t.index)
