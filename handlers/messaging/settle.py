"""Recording what became of a send: sent, retry later, parked. Each in one short transaction.

Every write here is *urgent* (``Database.transaction(urgent=True)``): on SQLite it goes before
intake's queued batches, so the commit that records a send never waits behind them (the window
in which a crash would post a card twice). A settle is fenced by the claim (``claimed_at``): a
worker whose lease ran out and whose row another worker has claimed since records nothing but
a success, which is true whoever holds the row.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update

from handlers.messaging.alerts import alert_parked, target_of
from handlers.messaging.claim import Claimed
from handlers.messaging.ports import Delivered
from handlers.messaging.scopes import pause
from handlers.services import Services
from store.models import OutboxMessage, OutboxStatus, SentMessage
from store.upsert import insert_or_replace

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What the sender's answer means for the row."""

    status: str  # sent | retry | failed
    error: str | None = None
    code: str | None = None
    after: float | None = None  # seconds the platform asked for (Retry-After)
    rate_limited: bool = False
    pause: tuple[str, ...] = ()  # scopes nothing may be sent into for ``after`` seconds
    delivered: Delivered | None = None
    alert: bool = True  # tell the admins if this parks the row
    ambiguous: bool = False  # the send may have landed (no answer): the next attempt is doubtful


@dataclass
class RetryPolicy:
    """Transient failures are retried with capped exponential backoff and jitter for as long
    as the message is younger than ``max_age``; only then is it parked."""

    max_age: timedelta = timedelta(days=3)
    max_backoff: float = 120.0
    base: float = 1.0
    rng: random.Random = field(default_factory=random.Random)

    def backoff(self, attempt: int) -> float:
        # "Equal jitter": never more than the cap, never less than half the step, so a crowd of
        # rows failing together spreads out instead of retrying in lockstep.
        step = min(self.base * 2.0 ** max(attempt - 1, 0), self.max_backoff)
        return self.rng.uniform(step / 2, step)


@dataclass(frozen=True)
class Settled:
    status: str  # sent | retry | failed | stale
    error: str | None
    code: str | None
    expired: bool = False
    alerted: bool = False


async def settle(services: Services, claimed: Claimed, outcome: Outcome, policy: RetryPolicy) -> Settled:
    now = services.clock.now()
    row = claimed.row
    async with services.db.transaction(urgent=True) as session:
        fresh = await session.get(OutboxMessage, row.id, with_for_update=True if services.db.is_postgres else None)
        if fresh is None or fresh.status != OutboxStatus.PENDING:
            return Settled("stale", outcome.error, outcome.code)
        mine = fresh.claimed_at == claimed.claimed_at
        if outcome.pause:
            seconds = outcome.after if outcome.after is not None else policy.backoff(fresh.attempts)
            await pause(
                session,
                outcome.pause,
                now + timedelta(seconds=seconds),
                outcome.error or "rate limited",
                now,
                postgres=services.db.is_postgres,
            )
        if outcome.status == "sent":
            await insert_or_replace(session, SentMessage, _mark_sent(fresh, row, outcome, now), on="key")
            return Settled("sent", None, None)
        if not mine:
            log.info(
                "outbox row %s was claimed again while this send was in flight; its result is left to the new claim",
                row.id,
            )
            return Settled("stale", outcome.error, outcome.code)
        # Kept when the send may have landed, so the next claim hands the sender a doubtful delivery.
        fresh.claimed_at = claimed.claimed_at if outcome.ambiguous else None
        fresh.last_error, fresh.error_code = outcome.error, outcome.code
        expired = outcome.status == "retry" and now - fresh.created_at >= policy.max_age
        if outcome.status == "retry" and not expired:
            delay = outcome.after if outcome.after is not None else policy.backoff(fresh.attempts)
            fresh.next_attempt_at = now + timedelta(seconds=delay)
            return Settled("retry", outcome.error, outcome.code)
        fresh.status = OutboxStatus.FAILED
        code = outcome.code or "unknown"
        if expired:
            age = now - fresh.created_at
            fresh.last_error = f"{outcome.error} (given up after {_age(age)} of transient failures)"
        alerted = False
        if outcome.alert or expired:
            alerted = await alert_parked(
                session,
                services,
                fresh,
                code="too_old" if expired else code,
                reason=fresh.last_error or code,
                target=target_of(fresh, claimed.delivery.target_channel),
                expired=expired,
            )
    if alerted:
        services.wake_delivery()
    return Settled("failed", fresh.last_error, code, expired=expired, alerted=alerted)


async def settle_sent(services: Services, sent: list[tuple[Claimed, Outcome]]) -> list[Settled]:
    """Record several successful sends in one transaction (what ``settle`` does for each).

    Under a burst most of a sweep's rows succeed; one commit for all those that finished
    meanwhile, instead of one each, keeps the write lock (SQLite) and the commits (PostgreSQL)
    from being delivery's bottleneck. Retries and failures are still settled one by one."""
    if not sent:
        return []
    now = services.clock.now()
    results: list[Settled] = []
    async with services.db.transaction(urgent=True) as session:
        ids = [claimed.row.id for claimed, _ in sent]
        query = select(OutboxMessage).where(OutboxMessage.id.in_(ids))
        if services.db.is_postgres:
            query = query.order_by(OutboxMessage.id).with_for_update()
        found = {r.id: r for r in (await session.scalars(query)).all()}
        landed: list[dict[str, object]] = []
        for claimed, outcome in sent:
            fresh = found.get(claimed.row.id)
            if fresh is None or fresh.status != OutboxStatus.PENDING:
                results.append(Settled("stale", outcome.error, outcome.code))
                continue
            landed.extend(_mark_sent(fresh, claimed.row, outcome, now))
            results.append(Settled("sent", None, None))
        # Where the messages landed, in one statement rather than a look-up and a write each.
        await insert_or_replace(session, SentMessage, landed, on="key")
    return results


def _mark_sent(fresh: OutboxMessage, row: OutboxMessage, outcome: Outcome, now: datetime) -> list[dict[str, object]]:
    """Mark ``fresh`` sent; the ``SentMessage`` row to record where a post landed, if any."""
    # True whoever holds the row now: a worker that reclaimed it after our lease ran out
    # finds it sent (its own settle is then stale).
    fresh.status, fresh.sent_at, fresh.last_error, fresh.error_code = OutboxStatus.SENT, now, None, None
    fresh.claimed_at = None
    if outcome.delivered is not None and row.message_key and row.kind == "post":
        return [
            {
                "key": f"{row.platform}:{row.message_key}",
                "platform": row.platform,
                "channel": outcome.delivered.channel,
                "message_id": outcome.delivered.message_id,
                "sent_at": now,
            }
        ]
    return []


async def release(services: Services, claimed: Claimed, until: datetime) -> None:
    """Give a claimed row back unsent (its scope was paused while it waited): not an attempt."""
    async with services.db.transaction(urgent=True) as session:
        await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == claimed.row.id,
                OutboxMessage.claimed_at == claimed.claimed_at,
                OutboxMessage.status == OutboxStatus.PENDING,
            )
            .values(attempts=OutboxMessage.attempts - 1, next_attempt_at=until, claimed_at=None)
        )


async def renew(services: Services, held: list[Claimed], lease: timedelta) -> None:
    """Extend the lease of rows still in flight, so no other worker takes them meanwhile."""
    if not held:
        return
    until = services.clock.now() + lease
    async with services.db.transaction(urgent=True) as session:
        for claimed in held:
            await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == claimed.row.id,
                    OutboxMessage.claimed_at == claimed.claimed_at,
                    OutboxMessage.status == OutboxStatus.PENDING,
                    OutboxMessage.next_attempt_at < until,
                )
                .values(next_attempt_at=until)
            )


def _age(age: timedelta) -> str:
    hours = age.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} hours"
