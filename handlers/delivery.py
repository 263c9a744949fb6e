"""The outbox worker: claims due rows, hands them to each platform's sender, records the result.

Rows are claimed with a lease (``next_attempt_at`` pushed forward) in a short
transaction, sent outside it, and marked sent afterwards. On PostgreSQL the
claim uses ``FOR UPDATE SKIP LOCKED`` so replicas never take the same row.
A message is lost never; it is sent twice only if the process dies between the
platform's answer and the commit that marks it sent.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import aliased

from handlers.ports import ConversationGone, Delivered, Delivery, PermanentFailure, RetryLater, Sender
from handlers.services import Services
from store.models import OutboxMessage, OutboxStatus, SentMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryResult:
    row_id: int
    platform: str
    status: str  # sent | retry | failed | waiting
    error: str | None = None
    latency: float = 0.0  # seconds from enqueue to send
    rate_limited: bool = False
    retry_after: float | None = None


class DeliveryWorker:
    """Deliver what the outbox holds; ``run_once`` is one sweep, ``run`` loops until stopped."""

    def __init__(self, services: Services, senders: Mapping[str, Sender], *, batch: int = 100,
                 lease: timedelta = timedelta(seconds=60), max_attempts: int = 12,
                 max_backoff: float = 300.0,
                 on_result: Callable[[DeliveryResult], None] | None = None,
                 on_gone: Callable[[Delivery, str], None] | None = None) -> None:
        self.services = services
        self.senders = dict(senders)
        self.batch = batch
        self.lease = lease
        self.max_attempts = max_attempts
        self.max_backoff = max_backoff
        self.on_result = on_result
        self.on_gone = on_gone
        self.wakeup = asyncio.Event()

    def wake(self) -> None:
        self.wakeup.set()

    async def run(self, stop: asyncio.Event, interval: float = 1.0) -> None:
        while not stop.is_set():
            try:
                sent = await self.run_once()
            except Exception:  # a bad sweep must not end delivery for good
                log.exception("outbox sweep failed")
                sent = 0
            if sent:
                continue
            self.wakeup.clear()
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.wakeup.wait())]
            await asyncio.wait(waiters, timeout=interval, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()

    async def run_once(self) -> int:
        """Claim and deliver one batch; returns how many rows were settled (sent or failed)."""
        claimed = await self._claim()
        settled = 0
        paused: dict[str, float] = {}
        for row in claimed:
            if row.platform in paused:
                await self._release(row.id, paused[row.platform])
                continue
            result = await self._deliver(row)
            if result.rate_limited:
                # The platform said slow down: the rest of this batch waits as long as it asked.
                paused[row.platform] = max(result.retry_after or 0.0, 0.05)
            if result.status in ("sent", "failed"):
                settled += 1
            if self.on_result:
                self.on_result(result)
        return settled

    async def _claim(self) -> list[OutboxMessage]:
        now = self.services.clock.now()
        older = aliased(OutboxMessage)
        # An update waits for every earlier message under the same key (its post, earlier updates).
        blocked = exists().where(and_(older.platform == OutboxMessage.platform,
                                      older.message_key == OutboxMessage.message_key,
                                      older.status == OutboxStatus.PENDING, older.id < OutboxMessage.id))
        query = (select(OutboxMessage)
                 .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now,
                        OutboxMessage.platform.in_(self.senders),
                        ~and_(OutboxMessage.message_key.is_not(None), blocked))
                 .order_by(OutboxMessage.id).limit(self.batch))
        if self.services.db.is_postgres:
            query = query.with_for_update(skip_locked=True, of=OutboxMessage)
        async with self.services.db.transaction() as session:
            rows = list((await session.scalars(query)).all())
            for row in rows:
                row.next_attempt_at = now + self.lease
                row.attempts += 1
        return rows

    async def _release(self, row_id: int, delay: float) -> None:
        async with self.services.db.transaction() as session:
            row = await session.get(OutboxMessage, row_id)
            if row is not None:
                row.attempts -= 1
                row.next_attempt_at = self.services.clock.now() + timedelta(seconds=delay)

    async def _target(self, row: OutboxMessage) -> SentMessage | None:
        async with self.services.db.transaction() as session:
            return await session.get(SentMessage, f"{row.platform}:{row.message_key}")

    async def _deliver(self, row: OutboxMessage) -> DeliveryResult:
        target = await self._target(row) if row.kind == "update" else None
        if row.kind == "update" and target is None:
            return await self._settle(row, "failed", "the message to update was never delivered")
        delivery = Delivery(id=row.id, op=row.kind, payload=row.payload, key=row.message_key,
                            target_channel=target.channel if target else None,
                            target_message=target.message_id if target else None)
        try:
            delivered = await self.senders[row.platform].send(delivery)
        except RetryLater as exc:
            return await self._settle(row, "retry", exc.reason, after=exc.after,
                                      rate_limited=exc.rate_limited)
        except ConversationGone as exc:
            if self.on_gone:
                self.on_gone(delivery, str(exc))
            return await self._settle(row, "failed", f"conversation gone: {exc}")
        except PermanentFailure as exc:
            return await self._settle(row, "failed", str(exc) or type(exc).__name__)
        except Exception as exc:  # network errors and the unexpected: back off and try again
            log.warning("delivery of outbox row %s failed: %s", row.id, type(exc).__name__)
            return await self._settle(row, "retry", f"{type(exc).__name__}: {exc}"[:500])
        return await self._settle(row, "sent", delivered=delivered)

    async def _settle(self, row: OutboxMessage, status: str, error: str | None = None, *,
                      after: float | None = None, delivered: Delivered | None = None,
                      rate_limited: bool = False) -> DeliveryResult:
        now = self.services.clock.now()
        async with self.services.db.transaction() as session:
            fresh = await session.get(OutboxMessage, row.id)
            assert fresh is not None
            if status == "sent":
                fresh.status, fresh.sent_at, fresh.last_error = OutboxStatus.SENT, now, None
                if delivered is not None and row.message_key and row.kind == "post":
                    await session.merge(SentMessage(key=f"{row.platform}:{row.message_key}",
                                                    platform=row.platform, channel=delivered.channel,
                                                    message_id=delivered.message_id, sent_at=now))
            elif status == "failed" or fresh.attempts >= self.max_attempts:
                status = "failed"
                fresh.status, fresh.last_error = OutboxStatus.FAILED, error
            else:
                backoff = after if after is not None else min(2.0 ** fresh.attempts, self.max_backoff)
                jitter = 0 if after is not None else random.uniform(0, backoff / 4)
                fresh.next_attempt_at = now + timedelta(seconds=backoff + jitter)
                fresh.last_error = error
        return DeliveryResult(row.id, row.platform, status, error,
                              (now - row.created_at).total_seconds(), rate_limited, after)
