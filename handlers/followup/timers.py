"""Firing SLA timers: the sweep that the scheduler runs every second, and its safety net.

A timer is a row. A sweep fires due timers in batches, one transaction each:
pick the earliest due pending timers with their handoffs (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, so replicas take different rows; SQLite's ``BEGIN
IMMEDIATE`` serialises writers), and for each check the fence and the handoff's
state, run one step, mark the timer fired and write the next step's timer. A
stale timer is cancelled and does nothing. A step that fails rolls its batch
back, and those timers are fired again one per transaction so the broken one is
set aside and the rest go out. The pick reads the partial index on pending due
times, so a sweep costs what is due, not what is pending.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import timedelta
from enum import StrEnum
from typing import cast

from sqlalchemy import ColumnElement, ScalarSelect, Select, and_, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.followup import sla
from handlers.followup.cadence import cadence_met
from handlers.followup.escalation import SLA_ACTOR, escalate, nudge
from handlers.handoff.reassign import move_on
from handlers.services import Services
from handlers.text import _
from scoring.agreement import Stage
from store.models import Handoff, HandoffState, Lead, Timer, TimerStatus
from store.rows import buffered

log = logging.getLogger(__name__)
# A step that raised is tried again after this, not on every sweep.
RETRY_AFTER = timedelta(minutes=1)
# Concurrent batches per sweep on PostgreSQL (each holds a pooled connection while it runs).
PG_WORKERS = 4
# Firings per transaction by default (BATON_TIMER_BATCH): one commit and one statement per
# table for the lot. Each firing's effects still commit together with its timer's new state.
BATCH = 100
# How far back the safety net looks for accepted leads still waiting for a first touch.
REPAIR_FIRST_TOUCH_DAYS = 30


class StepFailed(Exception):
    def __init__(self, timer_id: int) -> None:
        super().__init__(f"SLA timer {timer_id} failed")
        self.timer_id = timer_id


class Fired(StrEnum):
    FIRED = "fired"
    CANCELLED = "cancelled"  # stale: the handoff moved on or the fence changed


def _chain_is_live(timer: Timer, handoff: Handoff, lead: Lead) -> bool:
    """Whether the handoff is still in the state the timer's chain watches."""
    if timer.fence != handoff.fence:
        return False
    if timer.chain == "accept":
        return handoff.state == HandoffState.OFFERED
    if handoff.state != HandoffState.ACCEPTED:
        return False
    if timer.chain == "first_touch":
        return lead.first_touch_at is None and lead.stage in (Stage.SAL, Stage.SQL)
    # Cadence matters while the lead is being worked; a booked meeting (SQL) ends it.
    return timer.chain == "cadence" and lead.stage == Stage.SAL


async def _run_step(session: AsyncSession, services: Services, timer: Timer, lead: Lead, handoff: Handoff) -> None:
    chain = cast(sla.Chain, timer.chain)
    steps = sla.steps_of(sla.frozen_policy(handoff), chain)
    dedupe = f"timer:{timer.id}"
    if chain == "cadence":
        met, progress = await cadence_met(session, services.agreement, lead, handoff)
        if not met:
            await escalate(session, services, lead, handoff, chain, dedupe, detail=progress)
        return
    action = steps[timer.step].action
    if action == "nudge":
        await nudge(session, services, lead, handoff, chain, dedupe)
    elif action == "escalate":
        await escalate(session, services, lead, handoff, chain, dedupe)
    else:
        await move_on(session, services, lead, handoff, SLA_ACTOR, _("audit.note.accept_sla_missed"))


async def _lock_handoff(session: AsyncSession, services: Services, handoff_id: int) -> Handoff | None:
    """The handoff, locked on PostgreSQL; None if it is gone or someone else holds it right now."""
    query = select(Handoff).where(Handoff.id == handoff_id)
    if services.db.is_postgres:
        query = query.with_for_update(skip_locked=True)
    return await session.scalar(query)


def _due(services: Services, skip: set[int], limit: int) -> Select[Timer, Handoff, Lead]:
    """The earliest due pending timers with their handoffs and leads, locked on PostgreSQL.

    SKIP LOCKED on both the timer and its handoff: a handoff locked by an Accept in progress is
    passed over rather than waited for (the Accept may itself be about to cancel the timer, and
    waiting on each other would deadlock), and replicas sweeping at once take different rows."""
    query = (
        select(Timer, Handoff, Lead)
        .join(Handoff, Handoff.id == Timer.handoff_id)
        .join(Lead, Lead.id == Timer.lead_id)
        .where(sla.IS_PENDING, Timer.due_at <= services.clock.now())
    )
    if skip:
        query = query.where(Timer.id.not_in(skip))
    query = query.order_by(Timer.due_at).limit(limit)
    if services.db.is_postgres:
        query = query.with_for_update(skip_locked=True, of=[Timer, Handoff])
    return query


async def _fire(session: AsyncSession, services: Services, timer: Timer, handoff: Handoff, lead: Lead) -> Fired:
    """Run one timer's step in the caller's transaction (or cancel it if it went stale)."""
    if not _chain_is_live(timer, handoff, lead):
        timer.status = TimerStatus.CANCELLED
        return Fired.CANCELLED
    try:
        await _run_step(session, services, timer, lead, handoff)
    except Exception as error:  # rolls the whole transaction back
        raise StepFailed(timer.id) from error
    timer.status, timer.fired_at = TimerStatus.FIRED, services.clock.now()
    # A reassignment closed the handoff; its chain ends and the new offer has its own.
    if _chain_is_live(timer, handoff, lead):
        sla.schedule_step(session, services, handoff, cast(sla.Chain, timer.chain), timer.step + 1)
    return Fired.FIRED


async def _fire_batch(services: Services, skip: set[int], limit: int) -> int:
    """Fire up to ``limit`` due timers in one transaction; returns how many left the pending state.

    The messages, audit events and next timers of the whole batch are written set-wise when it
    ends (``store.rows``), and each card touched is re-rendered once. Any step that raises rolls
    the whole batch back (``StepFailed``); the caller then fires those timers one by one."""
    async with services.db.transaction() as session, buffered(session):
        rows = (await session.execute(_due(services, skip, limit))).all()
        for timer, handoff, lead in rows:
            await _fire(session, services, timer, handoff, lead)
    if rows:
        services.wake_delivery()  # what this batch enqueued goes out while the sweep goes on
    return len(rows)


async def _fire_next(services: Services, skip: set[int]) -> tuple[int, Fired] | None:
    """Fire the earliest due timer not in ``skip``, in a transaction of its own; None when nothing is due."""
    async with services.db.transaction() as session:
        row = (await session.execute(_due(services, skip, 1))).first()
        if row is None:
            return None
        timer, handoff, lead = row
        return timer.id, await _fire(session, services, timer, handoff, lead)


async def _postpone(services: Services, timer_id: int) -> None:
    async with services.db.transaction() as session:
        await session.execute(
            update(Timer).where(Timer.id == timer_id, sla.IS_PENDING).values(due_at=services.clock.now() + RETRY_AFTER)
        )


async def sweep(services: Services, limit: int = 10_000, batch: int = BATCH) -> int:
    """Fire due timers, ``batch`` to a transaction, up to ``limit``; returns how many left the pending
    state (fired, or cancelled as stale). Safe to run concurrently in any number of processes.

    On PostgreSQL several batches run at once (``PG_WORKERS`` connections, SKIP LOCKED keeps
    them apart); SQLite has one writer at a time, so there the batches run one by one.
    """
    budget = _Budget(limit)
    # One small batch first: an idle sweep (the common case) costs one short transaction, and
    # the extra PostgreSQL workers start only when there is something to do.
    first = await _drain(services, budget, batches=1, size=1)
    if not first and not budget.skip:
        return 0
    workers = PG_WORKERS if services.db.is_postgres else 1
    return first + sum(await asyncio.gather(*(_drain(services, budget, size=batch) for _worker in range(workers))))


class _Budget:
    """What one sweep's workers share: how much is left to do, and what to leave alone."""

    def __init__(self, limit: int) -> None:
        self.left = limit
        self.skip: set[int] = set()


async def _drain(services: Services, budget: _Budget, batches: int | None = None, size: int = BATCH) -> int:
    settled, done = 0, 0
    while budget.left > 0 and (batches is None or done < batches):
        done += 1
        take = min(size, budget.left)
        budget.left -= take
        try:
            fired = await _fire_batch(services, budget.skip, take)
        except StepFailed:
            # Find the broken step one firing at a time, set it aside, and fire the rest.
            fired = await _one_by_one(services, budget, take)
        if fired == 0:
            break  # nothing due that another worker is not already firing
        settled += fired
    return settled


async def _one_by_one(services: Services, budget: _Budget, most: int) -> int:
    settled = 0
    for _attempt in range(most):
        try:
            result = await _fire_next(services, budget.skip)
        except StepFailed as failed:
            # One broken step must not block the rest: set it aside and retry it later.
            log.exception("SLA timer %s failed to fire; it is retried in %s", failed.timer_id, RETRY_AFTER)
            budget.skip.add(failed.timer_id)
            await _postpone(services, failed.timer_id)
            continue
        if result is None:
            break
        settled += 1
    return settled


def _no_pending(chain: str) -> ColumnElement[bool]:
    return ~exists().where(
        and_(
            Timer.lead_id == Handoff.lead_id,
            Timer.handoff_id == Handoff.id,
            Timer.chain == chain,
            Timer.status == TimerStatus.PENDING,
        )
    )


def _last_fired(chain: str) -> ScalarSelect[int | None]:
    return (
        select(func.max(Timer.step))
        .where(
            Timer.lead_id == Handoff.lead_id,
            Timer.handoff_id == Handoff.id,
            Timer.chain == chain,
            Timer.status == TimerStatus.FIRED,
        )
        .scalar_subquery()
    )


async def repair(services: Services, limit: int = 500) -> int:
    """Safety net: give every open chain that has no pending timer its next step again.

    Nothing in Baton should leave a live chain without a timer, but a hand-edited row or a
    bug should cost a late reminder, not a lost lead. Chains whose last step has fired are
    finished, not broken. Returns how many timers it wrote (at most ``limit``).
    """
    now = services.clock.now()
    async with services.db.read() as session:  # the scan only looks; each repair writes on its own
        offered = (
            await session.execute(
                select(Handoff, _last_fired("accept")).where(
                    Handoff.state == HandoffState.OFFERED, _no_pending("accept")
                )
            )
        ).all()
        accepted = (
            await session.execute(
                select(Handoff, _last_fired("first_touch"))
                .join(Lead, Lead.id == Handoff.lead_id)
                .where(
                    Handoff.state == HandoffState.ACCEPTED,
                    Lead.first_touch_at.is_(None),
                    Lead.stage.in_([Stage.SAL, Stage.SQL]),
                    Handoff.decided_at >= now - timedelta(days=REPAIR_FIRST_TOUCH_DAYS),
                    _no_pending("first_touch"),
                )
            )
        ).all()
    broken: list[tuple[int, sla.Chain]] = []
    chains: list[tuple[sla.Chain, Sequence[tuple[Handoff, int | None]]]] = [
        ("accept", offered),
        ("first_touch", accepted),
    ]
    for chain, rows in chains:
        for handoff, last in rows:
            step = 0 if last is None else last + 1
            if step < len(sla.steps_of(sla.frozen_policy(handoff), chain)):
                broken.append((handoff.id, chain))
    written = 0
    for handoff_id, chain in broken[:limit]:
        written += await _repair_one(services, handoff_id, chain)
    return written


async def _repair_one(services: Services, handoff_id: int, chain: sla.Chain) -> int:
    async with services.db.transaction() as session:
        handoff = await _lock_handoff(session, services, handoff_id)
        if not isinstance(handoff, Handoff):
            return 0
        pending = await session.scalar(
            select(Timer.id)
            .where(
                Timer.lead_id == handoff.lead_id,
                Timer.handoff_id == handoff.id,
                Timer.chain == chain,
                Timer.status == TimerStatus.PENDING,
            )
            .limit(1)
        )
        expected = HandoffState.OFFERED if chain == "accept" else HandoffState.ACCEPTED
        if pending is not None or handoff.state != expected:
            return 0  # the sweep (or another replica's repair) got there first
        # Count fired steps whatever their fence, so a repaired chain never repeats a step.
        fired = await sla.fired_steps(session, handoff, chain)
        step = max(fired) + 1 if fired else 0
        if sla.schedule_step(session, services, handoff, chain, step) is None:
            return 0
        log.warning("re-created the missing %s timer (step %s) of handoff %s", chain, step, handoff_id)
        return 1
