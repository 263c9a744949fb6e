"""Outcomes after SQL, as the CRM reports them: an opportunity created, the deal won or lost.

``POST /api/leads/{external_id}/outcome`` (``bot/api/outcomes.py``) validates with ``OutcomeIn``
and calls ``record_outcome``. One row per lead and kind (``store.models.Outcome``): a resend of
the same outcome changes nothing, a resend with another amount, currency, reason or time
corrects the row (audited as ``lead.outcome_corrected``), so an amount is never counted twice.

Stages move through ``handlers.handoff.lifecycle`` only: opportunity from SAL, SQL or
unreachable; won or lost from those or opportunity. Won and lost are final: the other one
afterwards is refused (409), and so is any outcome for a lead sales never accepted (the CRM
is told which stage the lead is at). Reaching won or lost finishes the lead (``finished_at``,
so the retention rules apply) and every outcome cancels the lead's pending SLA timers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import select

from handlers.audit import AuditAction
from handlers.handoff import lifecycle
from handlers.intake.input import MAX_CLOCK_SKEW, Line, _in_range
from handlers.intake.leads import LeadForgotten
from handlers.messaging import events
from handlers.services import Services
from scoring.agreement import Stage
from scoring.lead import free_text
from store.models import Handoff, HandoffState, Lead, Outcome

OutcomeKind = Literal["opportunity", "won", "lost"]
_TRANSITIONS = {
    "opportunity": (lifecycle.Transition.OPPORTUNITY, Stage.OPPORTUNITY),
    "won": (lifecycle.Transition.WON, Stage.WON),
    "lost": (lifecycle.Transition.LOST, Stage.LOST),
}
_FINAL = {Stage.WON, Stage.LOST}


class OutcomeIn(BaseModel):
    """The body of ``POST /api/leads/{external_id}/outcome``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    outcome: OutcomeKind
    # At most 18 digits, 4 of them after the point; never negative, never NaN or infinite.
    amount: Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=4, allow_inf_nan=False)] | None = None
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")  # ISO 4217, like EUR
    reason: Annotated[str, AfterValidator(free_text)] | None = Field(default=None, min_length=1, max_length=500)
    occurred_at: Annotated[AwareDatetime, AfterValidator(_in_range)] | None = None
    # The CRM's own id of the opportunity or deal, kept in the audit trail.
    crm_id: Line | None = Field(default=None, min_length=1, max_length=128)


class OutcomeRefused(Exception):
    """The outcome does not fit the lead's stage (409) or names a time in the future (422)."""

    def __init__(self, status: int, error: str, field: str | None = None) -> None:
        super().__init__(error)
        self.status, self.error, self.field = status, error, field


@dataclass(frozen=True)
class OutcomeResult:
    external_id: str
    outcome: str
    status: Literal["created", "updated", "unchanged"]
    stage: str

    def as_json(self) -> dict[str, Any]:
        return {"external_id": self.external_id, "outcome": self.outcome, "status": self.status, "stage": self.stage}


def _amount_text(value: Decimal | None) -> str | None:
    # One spelling per amount ("12000.50" and 12000.5 are the same amount; so is "1E+3" and 1000).
    return None if value is None else format(value.normalize(), "f")


async def record_outcome(
    services: Services, external_id: str, item: OutcomeIn, actor: str = "intake-api"
) -> OutcomeResult | None:
    """Record ``item`` for the lead; ``None`` if the lead is unknown. Raises ``LeadForgotten``,
    ``OutcomeRefused``; writes nothing unless it returns."""
    now = services.clock.now()
    if item.occurred_at is not None and item.occurred_at > now + MAX_CLOCK_SKEW:
        raise OutcomeRefused(422, "occurred_at is in the future", "occurred_at")
    occurred = item.occurred_at.astimezone(now.tzinfo) if item.occurred_at is not None else now
    amount = _amount_text(item.amount)
    async with services.db.transaction() as session:
        lead = await session.scalar(select(Lead).where(Lead.external_id == external_id).with_for_update())
        if lead is None:
            return None
        if lead.forgotten_at is not None:
            raise LeadForgotten(external_id)
        row = await session.scalar(select(Outcome).where(Outcome.lead_id == lead.id, Outcome.kind == item.outcome))
        fields = {"amount": amount, "currency": item.currency, "reason": item.reason}
        if row is not None:
            # A resend: the same outcome again changes nothing; with other details it corrects them.
            explicit: dict[str, object] = {k: v for k, v in fields.items() if k in item.model_fields_set}
            if item.occurred_at is not None:
                explicit["occurred_at"] = occurred
            before = {k: _plain(getattr(row, k)) for k in explicit}
            changed = {k: v for k, v in explicit.items() if getattr(row, k) != v}
            if not changed:
                return OutcomeResult(external_id, item.outcome, "unchanged", lead.stage)
            for key, value in changed.items():
                setattr(row, key, value)
            row.updated_at, row.actor = now, actor
            await events.record(
                session,
                services,
                lead,
                actor,
                AuditAction.OUTCOME_CORRECTED,
                {"outcome": item.outcome, **{k: before[k] for k in changed}},
                {"outcome": item.outcome, **{k: _plain(v) for k, v in changed.items()}},
            )
            return OutcomeResult(external_id, item.outcome, "updated", lead.stage)
        transition, stage = _TRANSITIONS[item.outcome]
        current = Stage(lead.stage)
        if current in _FINAL or current not in lifecycle.TABLE[transition].stages_from:
            raise OutcomeRefused(409, _refusal(services, current, item.outcome))
        before = {"stage": lead.stage}
        lead.updated_at = now
        if stage in _FINAL:
            lead.finished_at = now
        session.add(
            Outcome(
                lead_id=lead.id,
                kind=item.outcome,
                occurred_at=occurred,
                actor=actor,
                created_at=now,
                updated_at=now,
                **fields,
            )
        )
        accepted = await session.scalar(
            select(Handoff).where(Handoff.lead_id == lead.id, Handoff.state == HandoffState.ACCEPTED).limit(1)
        )
        after: dict[str, Any] = {"stage": stage, "occurred_at": occurred.isoformat()}
        after.update({k: v for k, v in fields.items() if v is not None})
        if item.crm_id is not None:
            after["crm_id"] = item.crm_id
        # The table's row says what follows (its SLA timers cancelled, the audit event, the webhook).
        await lifecycle.apply(
            session,
            services,
            lifecycle.Move(transition, lead, accepted, actor, to=stage, before=before, after=after, at=now),
        )
    services.wake_delivery()
    return OutcomeResult(external_id, item.outcome, "created", stage)


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def _refusal(services: Services, current: Stage, outcome: str) -> str:
    label = services.agreement.stages.text[current].label
    if current in _FINAL:
        return f"the lead is already {label.lower()}; won and lost are final"
    return (
        f"the lead is at stage {label} ({current}); outcomes are recorded for leads sales accepted "
        f"(SAL, SQL, unreachable, or opportunity for won and lost), so {outcome!r} cannot be recorded yet"
    )
