"""The audit trail and the CRM's view of it: one call records both, in the caller's transaction."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import event as orm_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from handlers.audit import AuditAction
from handlers.messaging import crm, outbox
from handlers.services import RecordedEvent, Services
from store.models import AuditEvent, Lead
from store.rows import buffer_of

log = logging.getLogger(__name__)
_PENDING = "baton.events.pending"
_LISTENING = "baton.events.listening"

# Audit actions that the CRM hears about through outbound webhooks.
WEBHOOK_EVENTS = {
    AuditAction.QUALIFIED: "lead.qualified",
    AuditAction.OFFERED: "lead.offered",
    AuditAction.ACCEPTED: "lead.accepted",
    AuditAction.REJECTED: "lead.rejected",
    AuditAction.TOUCHED: "lead.touched",
    AuditAction.SQL: "lead.sql",
    AuditAction.UNREACHABLE: "lead.unreachable",
    "lead.escalated": "lead.escalated",
    AuditAction.SLA_ESCALATED: "lead.escalated",
    AuditAction.OPPORTUNITY: "lead.opportunity",
    AuditAction.WON: "lead.won",
    AuditAction.LOST: "lead.lost",
}


async def record(
    session: AsyncSession,
    services: Services,
    lead: Lead | None,
    actor: str,
    action: AuditAction,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Append an audit event and, if the CRM subscribes to it, enqueue the webhook."""
    now = services.clock.now()
    row = {
        "lead_id": lead.id if lead else None,
        "actor": actor,
        "action": action,
        "before": before,
        "after": after,
        "at": now,
    }
    _notify_after_commit(session, services, RecordedEvent(action=action, actor=actor, after=after))
    webhook_event = WEBHOOK_EVENTS.get(action)
    subscribers = (
        [w for w in services.agreement.webhooks if webhook_event in w.events]
        if webhook_event and lead is not None
        else []
    )
    write_back = crm.subscribed(services, action) if lead is not None else []
    buffer = buffer_of(session)
    if buffer is not None and not subscribers and not write_back:
        buffer.add(AuditEvent, row)
        return
    event = AuditEvent(**row)
    session.add(event)
    if not subscribers and not write_back:
        return
    assert lead is not None
    await session.flush()  # the webhook and the write-back name the event by its id
    if write_back:
        await crm.enqueue(session, services, lead, action, event.id, now)
    if not subscribers:
        return
    body = {
        "event": webhook_event,
        "occurred_at": now.isoformat(),
        "event_id": event.id,
        "lead": {
            "id": lead.id,
            "external_id": lead.external_id,
            "stage": lead.stage,
            "owner": lead.owner,
            "team": lead.team,
            "score": lead.score,
        },
        "actor": actor,
        "data": after or {},
    }
    for index, hook in enumerate(services.agreement.webhooks):
        if hook in subscribers:
            await outbox.webhook(session, services, hook.url, body, dedupe=f"{event.id}:{index}")


def _notify_after_commit(session: AsyncSession, services: Services, event: RecordedEvent) -> None:
    """Hand ``event`` to ``services.on_event`` once the transaction commits, and never if it rolls back."""
    session.info.setdefault(_PENDING, []).append(event)
    if session.info.get(_LISTENING):
        return
    session.info[_LISTENING] = True

    def committed(_session: Session) -> None:
        for item in session.info.pop(_PENDING, []):
            try:
                services.on_event(item)
            except Exception:  # an observer's bug must not fail work already committed
                log.exception("audit event observer failed")

    def rolled_back(_session: Session) -> None:
        session.info.pop(_PENDING, None)

    orm_event.listen(session.sync_session, "after_commit", committed)
    orm_event.listen(session.sync_session, "after_rollback", rolled_back)
