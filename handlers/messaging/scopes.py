"""Rate-limit scopes in the database: read them under lock, reserve pacing slots, record pauses.

Every worker and replica reads and writes the same ``delivery_scopes`` rows inside its claim
transaction. On PostgreSQL the rows are locked (``FOR UPDATE``, in scope order so two claims
never deadlock), so two replicas cannot both take the last slot of a scope; on SQLite the
claim transaction is the only writer (``BEGIN IMMEDIATE``), which serialises them just the same.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.messaging.pacing import Limit, Pacing, allowed_at, reserve
from store.db import Database
from store.models import DeliveryScope
from store.upsert import insert_ignoring

# A scope untouched this long is forgotten by the daily retention job (``forget_idle``).
IDLE = timedelta(days=1)


def _stamp(at: datetime) -> float:
    return at.timestamp()


def _time(stamp: float) -> datetime:
    return datetime.fromtimestamp(stamp, UTC)


@dataclass
class ScopeState:
    """One scope as the claim sees it; ``changed`` rows are written back."""

    row: DeliveryScope
    limits: tuple[Limit, ...]
    changed: bool = False

    def free_from(self) -> float:
        """Epoch seconds when the scope takes its next call (pause and pacing both)."""
        paused = _stamp(self.row.paused_until) if self.row.paused_until else float("-inf")
        return max(paused, allowed_at(self.limits, self.row.tats or []))

    def take(self, now: float) -> None:
        if self.limits:
            self.row.tats = reserve(self.limits, self.row.tats or [], now)
            self.changed = True


async def lock_scopes(
    session: AsyncSession, scopes: Iterable[str], pacing: Pacing, now: datetime, *, postgres: bool
) -> dict[str, ScopeState]:
    """The state of every scope named, locked for this transaction. Paced scopes get a row if
    they had none; unpaced ones exist only while paused."""
    names = sorted(set(scopes))
    if not names:
        return {}
    query = select(DeliveryScope).where(DeliveryScope.scope.in_(names)).order_by(DeliveryScope.scope)
    if postgres:
        query = query.with_for_update()
    found = {row.scope: row for row in (await session.scalars(query)).all()}
    missing = [name for name in names if name not in found and pacing.for_scope(name)]
    if missing:
        await insert_ignoring(
            session, DeliveryScope, [{"scope": name, "tats": [], "updated_at": now} for name in missing], on="scope"
        )
        again = select(DeliveryScope).where(DeliveryScope.scope.in_(missing)).order_by(DeliveryScope.scope)
        if postgres:
            again = again.with_for_update()
        found.update({row.scope: row for row in (await session.scalars(again)).all()})
    return {name: ScopeState(row, pacing.for_scope(name)) for name, row in found.items()}


def write_back(states: Iterable[ScopeState], now: datetime) -> None:
    """Store the new TATs and ``free_at`` (what the claim query filters on) of changed scopes."""
    for state in states:
        free = state.free_from()
        free_at = _time(free) if free != float("-inf") else None
        if state.changed or state.row.free_at != free_at:
            state.row.free_at = free_at
            state.row.updated_at = now


async def pause(
    session: AsyncSession, scopes: Sequence[str], until: datetime, reason: str, now: datetime, *, postgres: bool
) -> None:
    """Nothing is sent into these scopes before ``until`` (a platform's Retry-After)."""
    for scope in sorted(set(scopes)):
        await insert_ignoring(
            session,
            DeliveryScope,
            {
                "scope": scope,
                "tats": [],
                "paused_until": until,
                "free_at": until,
                "reason": reason[:500],
                "updated_at": now,
            },
            on="scope",
        )
        query = select(DeliveryScope).where(DeliveryScope.scope == scope)
        if postgres:
            query = query.with_for_update()
        row = (await session.scalars(query)).one()
        if row.paused_until is None or row.paused_until < until:
            row.paused_until, row.reason = until, reason[:500]
        if row.free_at is None or row.free_at < until:
            row.free_at = until
        row.updated_at = now


class PauseChecks:
    """``paused_until`` for many sends at once, answered by as few reads as it can.

    Asked just before every send, one read each was the largest cost of delivery under a
    burst. Asks that arrive while a read is running wait for the next one, which starts after
    they asked: so every answer still comes from a read begun after its question, and a pause
    committed by another worker or replica before the ask is always seen."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._waiting: list[tuple[Sequence[str], datetime, asyncio.Future[datetime | None]]] = []
        self._reading: asyncio.Task[None] | None = None

    async def paused_until(self, scopes: Sequence[str], now: datetime) -> datetime | None:
        if not scopes:
            return None
        answer: asyncio.Future[datetime | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((scopes, now, answer))
        if self._reading is None or self._reading.done():
            self._reading = asyncio.create_task(self._read())
        return await answer

    async def _read(self) -> None:
        while self._waiting:
            asks, self._waiting = self._waiting, []
            try:
                wanted = sorted({scope for scopes, _, _ in asks for scope in scopes})
                earliest = min(now for _, now, _ in asks)
                async with self.db.read() as session:
                    rows = (
                        await session.execute(
                            select(DeliveryScope.scope, DeliveryScope.paused_until).where(
                                DeliveryScope.scope.in_(wanted), DeliveryScope.paused_until > earliest
                            )
                        )
                    ).all()
            except Exception as exc:
                for _, _, answer in asks:
                    if not answer.done():
                        answer.set_exception(exc)
                continue
            pauses = {scope: _aware(until) for scope, until in rows if until is not None}
            for scopes, now, answer in asks:
                running = [pauses[s] for s in scopes if s in pauses and pauses[s] > now]
                if not answer.done():
                    answer.set_result(max(running, default=None))


def _aware(at: datetime) -> datetime:
    # SQLite hands back naive datetimes (stored as UTC).
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


async def forget_idle(db: Database, now: datetime, idle: timedelta = IDLE) -> int:
    """Delete scopes nobody has used, paused or paced for ``idle`` (a channel archived, a
    person gone); returns how many. A scope that is used again is simply created afresh: after
    a day without calls every bucket is full again, so forgetting it changes no pacing
    decision (for limits whose period is under a day, as every default is). The conditions
    are in the DELETE itself, so a claim that touched the scope meanwhile keeps it."""
    cutoff = now - idle
    async with db.transaction(urgent=True) as session:
        result = await session.execute(
            delete(DeliveryScope).where(
                DeliveryScope.updated_at < cutoff,
                or_(DeliveryScope.paused_until.is_(None), DeliveryScope.paused_until < cutoff),
                or_(DeliveryScope.free_at.is_(None), DeliveryScope.free_at < cutoff),
            )
        )
    return int(getattr(result, "rowcount", 0) or 0)


def seconds_until(stamp: float, now: datetime) -> float:
    return max(stamp - _stamp(now), 0.0)


def after(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)
