"""Enqueue messages in the caller's transaction; ``handlers.messaging.delivery`` sends them after commit.

A view addressed to a person or a channel fans out to one row per platform on
which that person or channel exists, so the same card reaches Slack and Teams.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.services import Services
from handlers.views.lead_card import LeadCard
from scoring.agreement import ChannelRef
from store.models import OutboxMessage, OutboxStatus
from store.rows import buffer_of
from store.upsert import insert_ignoring

FAST_TRACK = 10  # outbox priority of a fast-track lead's card: sent first under a backlog


def _titles(services: Services) -> str:
    titles = [p.title for p in services.chat]
    return " or ".join([", ".join(titles[:-1]), titles[-1]] if len(titles) > 1 else titles) or "chat"


def _priority(view: BaseModel) -> int:
    return FAST_TRACK if isinstance(view, LeadCard) and view.fast_track else 0


def _addresses(services: Services, person: str | None, channel: ChannelRef | None) -> list[tuple[str, dict[str, Any]]]:
    """One address per registered platform that reaches the person or channel, in registry order."""
    if channel is not None:
        return [(p.name, {"channel": ref}) for p in services.chat if (ref := channel.get(p.name))]
    assert person is not None
    found = services.agreement.person_by(email=person)
    email = person.lower()
    if found is None:
        return []
    # An id reaches a person even on a platform not configured yet (the row waits in the outbox);
    # by email only a platform this process delivers to, which opens the chat itself.
    return [
        (p.name, {"user": found.chat_ids.get(p.name), "email": email})
        for p in services.chat
        if found.chat_ids.get(p.name) or (p.by_email and p.name in services.platforms)
    ]


async def _insert(session: AsyncSession, services: Services, row: dict[str, Any]) -> None:
    now = services.clock.now()
    row = {
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "message_key": None,
        "dedupe_key": None,
        "last_error": None,
        "priority": 0,
        **row,
    }
    # A retried job that enqueues the same message again is a no-op, not a second send.
    skip_conflict_on = "dedupe_key" if row["dedupe_key"] else None
    buffer = buffer_of(session)
    if buffer is not None:
        buffer.add(OutboxMessage, row, skip_conflict_on)
        return
    if skip_conflict_on is None:
        # Added to the unit of work: the ORM writes a whole batch of these in one statement.
        session.add(OutboxMessage(**row))
        return
    await insert_ignoring(session, OutboxMessage, row, on=skip_conflict_on)


async def post(
    session: AsyncSession,
    services: Services,
    view: BaseModel,
    *,
    to_person: str | None = None,
    to_channel: ChannelRef | None = None,
    key: str | None = None,
    dedupe: str | None = None,
    image: bytes | None = None,
    image_name: str = "chart.png",
) -> int:
    """Post ``view`` to a person (DM) or a channel; returns how many platform rows were written."""
    if (to_person is None) == (to_channel is None):
        raise ValueError("post to exactly one of a person or a channel")
    addresses = _addresses(services, to_person, to_channel)
    payload_view = view.model_dump(mode="json")
    for platform, address in addresses:
        payload: dict[str, Any] = {"op": "post", **address, "view": payload_view}
        if image is not None:
            payload["image_b64"] = base64.b64encode(image).decode()
            payload["image_name"] = image_name
        await _insert(
            session,
            services,
            {
                "platform": platform,
                "kind": "post",
                "payload": payload,
                "message_key": key,
                "dedupe_key": f"{platform}:{dedupe}" if dedupe else None,
                "priority": _priority(view),
            },
        )
    if not addresses:
        # Visible in `baton outbox list` rather than silently dropped.
        await _insert(
            session,
            services,
            {
                "platform": "none",
                "kind": "post",
                "payload": {"op": "post", "view": payload_view, "person": to_person},
                "message_key": key,
                "status": OutboxStatus.FAILED,
                "last_error": f"{to_person} has no {_titles(services)} identity in the configuration",
            },
        )
    return len(addresses)


async def update(session: AsyncSession, services: Services, key: str, view: BaseModel) -> int:
    """Replace every platform's copy of the message posted under ``key``."""
    return await update_many(session, services, [(key, view)])


async def update_many(session: AsyncSession, services: Services, views: Sequence[tuple[str, BaseModel]]) -> int:
    """``update`` for many messages, with one query for where they were all posted."""
    rows = await session.execute(
        select(OutboxMessage.message_key, OutboxMessage.platform)
        .where(
            OutboxMessage.message_key.in_({key for key, _ in views}),
            OutboxMessage.kind == "post",
            OutboxMessage.platform.in_([p.name for p in services.chat]),
        )
        .distinct()
    )
    platforms: dict[str, list[str]] = {}
    for key, platform in rows.all():
        platforms.setdefault(str(key), []).append(platform)
    written = 0
    for key, view in views:
        payload_view = view.model_dump(mode="json") if platforms.get(key) else None
        for platform in sorted(platforms.get(key, [])):
            await _insert(
                session,
                services,
                {
                    "platform": platform,
                    "kind": "update",
                    "message_key": key,
                    "payload": {"op": "update", "view": payload_view},
                    "priority": _priority(view),
                },
            )
            written += 1
    return written


async def webhook(
    session: AsyncSession, services: Services, url: str, body: dict[str, Any], dedupe: str | None = None
) -> None:
    await _insert(
        session,
        services,
        {
            "platform": "webhook",
            "kind": "webhook",
            "payload": {"url": url, "body": body},
            "dedupe_key": f"webhook:{dedupe}" if dedupe else None,
        },
    )


async def crm_action(session: AsyncSession, services: Services, payload: dict[str, Any], dedupe: str) -> None:
    """A write-back to the CRM (``handlers.messaging.crm``), delivered by platform ``crm``."""
    await _insert(
        session,
        services,
        {"platform": "crm", "kind": "crm_action", "payload": payload, "dedupe_key": f"crm:{dedupe}"},
    )
