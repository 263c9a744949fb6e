"""Write-back to the CRM: ``[[crm_actions]]`` rendered for one event and queued in the outbox.

``events.record`` calls ``enqueue`` in the caller's transaction, beside the audit event and the
webhooks; ``bot/crm.py`` (platform ``crm``) sends the rows with the same retries, backoff and
parking as every other outbox row, so a refused write shows in ``baton outbox list``.

A row carries the lead's values at the event (``values``: its stage, owner, ids) and, filled
from them, the method, URL and body, and the header templates: secrets stay ``${NAME}`` in the
database and are read from the environment only when sending. The sender fills the request
again from ``values`` with the agreement it runs (``render_now``), so a fix to the agreement (a
rep's ``crm_id``, a status) reaches rows that wait or are retried. When the URL or a text needs
a value the lead does not have (an owner without ``crm_id``), the row is refused: the sender
parks it at once with the reason, and the admins are told, instead of writing a half-filled
record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.audit import AuditAction
from handlers.messaging import outbox
from handlers.services import Services
from scoring.agreement import Agreement
from scoring.crm_actions import CrmAction, Unfilled, fill, fill_body
from store.models import Lead

PLATFORM = "crm"
KIND = "crm_action"

# Audit actions the CRM write-back can run on, by event name (a superset of the webhooks').
CRM_EVENTS: dict[str, str] = {
    AuditAction.QUALIFIED: "lead.qualified",
    AuditAction.OFFERED: "lead.offered",
    AuditAction.ACCEPTED: "lead.accepted",
    AuditAction.TAKEN_OVER: "lead.taken_over",
    AuditAction.REASSIGNED: "lead.reassigned",
    AuditAction.REJECTED: "lead.rejected",
    AuditAction.TOUCHED: "lead.touched",
    AuditAction.SQL: "lead.sql",
    AuditAction.UNREACHABLE: "lead.unreachable",
    AuditAction.OPPORTUNITY: "lead.opportunity",
    AuditAction.WON: "lead.won",
    AuditAction.LOST: "lead.lost",
}


def subscribed(services: Services, action: str) -> list[tuple[int, CrmAction]]:
    event = CRM_EVENTS.get(action)
    if event is None:
        return []
    return [(i, a) for i, a in enumerate(services.agreement.crm_actions) if event in a.events]


def values_for(lead: Lead, event: str, at: datetime) -> dict[str, Any]:
    """What the templates may use, as the lead was at the event (``crm_id`` comes from the agreement)."""
    return {
        "external_id": lead.external_id,
        "lead_id": lead.id,
        "owner": lead.owner,
        "stage": str(lead.stage),
        "team": lead.team,
        "score": lead.score,
        "event": event,
        "occurred_at": at.isoformat(),
    }


def render_now(agreement: Agreement, action: CrmAction, values: dict[str, Any]) -> dict[str, Any]:
    """The outbox payload of ``action`` for the event's ``values``, with the agreement's ``crm_id``
    of the owner and ``status_map`` of the stage."""
    owner = agreement.person_by(email=str(values["owner"])) if values.get("owner") else None
    return render(action, {**values, "crm_id": owner.crm_id if owner is not None else None})


def render(action: CrmAction, values: dict[str, Any]) -> dict[str, Any]:
    """The outbox payload of ``action`` for ``values`` (which ``crm_status`` is added to)."""
    event_values = {k: v for k, v in values.items() if k != "crm_id"}
    values = {**values, "crm_status": action.status_map.get(str(values.get("stage")))}
    payload: dict[str, Any] = {
        "action": action.name,
        "event": values["event"],
        "values": event_values,
        "method": action.method,
        "headers": dict(action.headers),
    }
    try:
        payload["url"] = fill(action.url, values, url=True)
        payload["body"] = fill_body(action.body, values) if action.body is not None else None
    except Unfilled as exc:
        payload["url"] = action.url
        payload["body"] = None
        payload["refused"] = _unfilled(values, str(exc))
        return payload
    if values.get("owner") and values.get("crm_id") is None and action.uses("crm_id"):
        # The owner field would be left out: say so rather than write the status alone.
        payload["refused"] = _unfilled(values, "crm_id")
    return payload


def _unfilled(values: dict[str, Any], name: str) -> str:
    if name == "crm_id":
        who = values.get("owner") or "nobody"
        return f"no CRM user id for {who}: add crm_id to that person in the agreement"
    if name == "crm_status":
        return f"status_map names no CRM status for stage {values.get('stage')!r}"
    return f"no value for {{{name}}} for this lead"


async def enqueue(
    session: AsyncSession, services: Services, lead: Lead, action: str, event_id: int, at: datetime
) -> None:
    """Queue every CRM action subscribed to ``action`` for ``lead`` (one row each)."""
    event = CRM_EVENTS.get(action)
    if event is None:
        return
    values = values_for(lead, event, at)
    for index, crm_action in subscribed(services, action):
        payload = render_now(services.agreement, crm_action, values)
        await outbox.crm_action(session, services, payload, dedupe=f"{event_id}:{index}")
