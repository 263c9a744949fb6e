"""Live notices: the nudges and escalations posted about an offer, and keeping them true.

Every notice about an offer is posted under a message key of its own (one per person or
channel: a key tracks one message per platform) and listed in ``notices``. When the offer is
accepted, taken over, reassigned or closed (``lifecycle.Effect.UPDATE_NOTICES``), each of them
is updated in place through the outbox (after its post, like a card update) to say what
happened, and loses its buttons: nobody acts on a stale notice.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.messaging import outbox
from handlers.services import Services
from handlers.views import load_view
from handlers.views.notice import Notice
from scoring.agreement import ChannelRef
from store.models import Handoff, NoticeSent, OutboxMessage
from store.rows import buffer_of

_SETTLE = "notices.settle"


def notice_key(handoff: Handoff, dedupe: str) -> str:
    """The message key of the notice posted under ``dedupe`` (a digest: emails can be long)."""
    digest = hashlib.sha256(dedupe.encode()).hexdigest()[:24]
    return f"lead:{handoff.lead_id}:notice:{handoff.id}:{digest}"


async def post_notice(
    session: AsyncSession,
    services: Services,
    handoff: Handoff,
    notice: Notice,
    dedupe: str,
    *,
    to_person: str | None = None,
    to_channel: ChannelRef | None = None,
) -> int:
    """Post ``notice`` about ``handoff`` and remember it, so the lifecycle can update it later."""
    key = notice_key(handoff, dedupe)
    written = await outbox.post(
        session, services, notice, to_person=to_person, to_channel=to_channel, key=key, dedupe=dedupe
    )
    row = {"lead_id": handoff.lead_id, "handoff_id": handoff.id, "message_key": key, "created_at": services.clock.now()}
    buffer = buffer_of(session)
    if buffer is not None:
        buffer.add(NoticeSent, row)
    else:
        session.add(NoticeSent(**row))
    return written


async def _settle_now(session: AsyncSession, services: Services, items: list[tuple[Handoff, str]]) -> None:
    by_handoff = {handoff.id: resolved for handoff, resolved in items}
    keys = await session.execute(
        select(NoticeSent.handoff_id, NoticeSent.message_key).where(NoticeSent.handoff_id.in_(by_handoff))
    )
    resolved_by_key: dict[str, str] = {str(key): by_handoff[handoff_id] for handoff_id, key in keys.all()}
    if not resolved_by_key:
        return
    # The view as first posted (every platform's row carries the same one).
    posts = await session.execute(
        select(OutboxMessage.message_key, OutboxMessage.payload)
        .where(
            OutboxMessage.message_key.in_(resolved_by_key),
            OutboxMessage.kind == "post",
            OutboxMessage.platform.in_([p.name for p in services.chat]),
        )
        .order_by(OutboxMessage.id)
    )
    views: dict[str, Notice] = {}
    for key, payload in posts.all():
        if key in views:
            continue
        view = _notice_of(payload)
        if view is not None:
            views[str(key)] = view.model_copy(update={"buttons": [], "resolved": resolved_by_key[str(key)]})
    await outbox.update_many(session, services, sorted(views.items()))


def _notice_of(payload: Any) -> Notice | None:
    try:
        view = load_view(payload["view"])
    except (KeyError, TypeError, ValueError):
        return None  # an erased or foreign row: nothing to update
    return view if isinstance(view, Notice) else None


async def settle(session: AsyncSession, services: Services, handoff: Handoff, resolved: str) -> None:
    """Update every notice about ``handoff`` to say ``resolved`` and drop its buttons.

    Inside a ``store.rows.buffered`` block (a timer sweep) the notices of the same batch are not
    written yet, so the update waits for the rows, like ``cards.refresh_card``."""
    buffer = buffer_of(session)
    if buffer is None:
        await _settle_now(session, services, [(handoff, resolved)])
        return

    async def settle_waiting(items: list[tuple[Handoff, str]]) -> None:
        await _settle_now(session, services, items)

    buffer.collect(_SETTLE, settle_waiting)[handoff.id] = (handoff, resolved)
