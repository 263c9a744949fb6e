"""Claiming outbox rows: what is due, in order, that its rate-limit scopes let go now.

One short transaction picks the candidates (pending, due, not behind an earlier message under
the same key, not in a scope known to be paused or paced out), highest priority first and then
the oldest, asks each row's sender which scopes the call will consume, reserves a pacing slot
in every one of them, and marks the rows it takes as in flight (``claimed_at``, a lease in
``next_attempt_at``). Rows whose scopes have no free slot stay pending, untouched; the claim
reports when the earliest of them frees up, so the loop sleeps until then instead of spinning.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import aliased

from handlers.messaging.pacing import Pacing
from handlers.messaging.ports import Delivery, Sender
from handlers.messaging.scopes import lock_scopes, seconds_until, write_back
from handlers.services import Services
from store.models import DeliveryScope, OutboxMessage, OutboxStatus, SentMessage

log = logging.getLogger(__name__)
MAX_SCOPE = 300  # characters of a scope name (the column's width)


@dataclass(frozen=True)
class Claimed:
    """A row this worker now holds: what to send, the scopes it consumes, and its claim fence."""

    row: OutboxMessage
    delivery: Delivery
    scopes: tuple[str, ...]
    claimed_at: datetime


@dataclass(frozen=True)
class Claim:
    rows: list[Claimed]
    # Seconds until the earliest candidate left behind for want of a slot could go, if any.
    next_slot: float | None


def scopes_of(sender: Sender, delivery: Delivery, platform: str) -> tuple[str, ...]:
    """The sender's scopes plus the platform's own (``"slack"``), which a 429 that names no
    scope pauses as a whole."""
    named: tuple[str, ...] = ()
    scoper = getattr(sender, "pacing_scopes", None)
    if scoper is not None:
        try:
            named = tuple(str(s)[:MAX_SCOPE] for s in scoper(delivery) if s)
        except Exception:  # a sender's bug must not stop delivery: the call goes unpaced
            log.exception("pacing_scopes of %s failed for outbox row %s", platform, delivery.id)
    return tuple(dict.fromkeys((*named, platform)))


def _candidates(services: Services, senders: Mapping[str, Sender], now: datetime, limit: int) -> Select[Any]:
    older = aliased(OutboxMessage)
    # An update waits for every earlier message under the same key (its post, earlier updates).
    blocked = exists().where(
        and_(
            older.platform == OutboxMessage.platform,
            older.message_key == OutboxMessage.message_key,
            older.status == OutboxStatus.PENDING,
            older.id < OutboxMessage.id,
        )
    )
    # A row whose (known) first scope is paused or paced out is not even looked at.
    held = exists().where(and_(DeliveryScope.scope == OutboxMessage.pace_scope, DeliveryScope.free_at > now))
    query = (
        select(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.next_attempt_at <= now,
            OutboxMessage.platform.in_(senders),
            ~and_(OutboxMessage.message_key.is_not(None), blocked),
            or_(OutboxMessage.pace_scope.is_(None), ~held),
        )
        .order_by(OutboxMessage.priority.desc(), OutboxMessage.id)
        .limit(limit)
    )
    if services.db.is_postgres:
        query = query.with_for_update(skip_locked=True, of=OutboxMessage)
    return query


async def claim(
    services: Services, senders: Mapping[str, Sender], pacing: Pacing, *, batch: int, lease: timedelta
) -> Claim:
    now = services.clock.now()
    stamp = now.timestamp()
    postgres = services.db.is_postgres
    async with services.db.transaction(urgent=True) as session:
        # Twice the batch: rows of a scope that is out of slots must not crowd out rows of others.
        rows: list[OutboxMessage] = list((await session.scalars(_candidates(services, senders, now, batch * 2))).all())
        if not rows:
            soonest = await session.scalar(select(func.min(DeliveryScope.free_at)).where(DeliveryScope.free_at > now))
            return Claim([], seconds_until(soonest.timestamp(), now) if soonest is not None else None)
        keys = {f"{r.platform}:{r.message_key}" for r in rows if r.kind == "update" and r.message_key}
        targets: dict[str, SentMessage] = {}
        if keys:
            found = await session.scalars(select(SentMessage).where(SentMessage.key.in_(keys)))
            targets = {t.key: t for t in found.all()}
        planned: list[tuple[OutboxMessage, Delivery, tuple[str, ...]]] = []
        for row in rows:
            target = targets.get(f"{row.platform}:{row.message_key}") if row.kind == "update" else None
            delivery = Delivery(
                id=row.id,
                op=row.kind,
                payload=row.payload,
                key=row.message_key,
                target_channel=target.channel if target else None,
                target_message=target.message_id if target else None,
                doubtful=row.claimed_at is not None,
                claimed_at=row.claimed_at,
            )
            planned.append((row, delivery, scopes_of(senders[row.platform], delivery, row.platform)))
        states = await lock_scopes(
            session, (s for _, _, scopes in planned for s in scopes), pacing, now, postgres=postgres
        )
        taken: list[Claimed] = []
        next_free: float | None = None
        for row, delivery, scopes in planned:
            if row.pace_scope is None:
                row.pace_scope = scopes[0]  # remembered, so the query can skip it while its scope is held
            if len(taken) >= batch:
                continue
            held = [states[s] for s in scopes if s in states]
            free = max((s.free_from() for s in held), default=float("-inf"))
            if free > stamp:
                next_free = free if next_free is None else min(next_free, free)
                continue
            for state in held:
                state.take(stamp)
            row.next_attempt_at = now + lease
            row.attempts += 1
            row.claimed_at = now
            taken.append(Claimed(row, delivery, scopes, now))
        write_back(states.values(), now)
        if len(taken) < batch:
            # Rows the query skipped (their scope held) go again when the soonest scope frees up.
            soonest = await session.scalar(select(func.min(DeliveryScope.free_at)).where(DeliveryScope.free_at > now))
            if soonest is not None:
                next_free = min(next_free or soonest.timestamp(), soonest.timestamp())
    return Claim(taken, seconds_until(next_free, now) if next_free is not None else None)
