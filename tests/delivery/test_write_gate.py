"""SQLite's one writer, taken in turn: delivery's settle never waits behind a queue of intake batches."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from store.db import Database
from store.write_gate import WriteGate


async def test_an_urgent_writer_goes_after_at_most_the_one_holding_the_gate() -> None:
    gate = WriteGate()
    order: list[str] = []

    async def writer(name: str, urgent: bool = False) -> None:
        await gate.acquire(urgent)
        try:
            order.append(name)
            await asyncio.sleep(0)
        finally:
            gate.release()

    await gate.acquire()  # intake batch 0 holds the writer's turn
    batches = [asyncio.create_task(writer(f"batch {n}")) for n in range(1, 6)]
    await asyncio.sleep(0)
    settle = asyncio.create_task(writer("settle", urgent=True))
    await asyncio.sleep(0)
    gate.release()
    await asyncio.gather(settle, *batches)
    assert order == ["settle", "batch 1", "batch 2", "batch 3", "batch 4", "batch 5"]


async def test_writers_that_are_not_urgent_take_turns_in_arrival_order() -> None:
    gate = WriteGate()
    order: list[int] = []

    async def writer(n: int) -> None:
        await gate.acquire()
        order.append(n)
        gate.release()

    await gate.acquire()
    tasks = [asyncio.create_task(writer(n)) for n in range(5)]
    await asyncio.sleep(0)
    gate.release()
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4]


async def test_a_cancelled_waiter_does_not_keep_the_gate() -> None:
    gate = WriteGate()
    await gate.acquire()
    waiter = asyncio.create_task(gate.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    gate.release()
    await asyncio.wait_for(gate.acquire(), 1)  # free again
    gate.release()


async def test_a_settle_behind_back_to_back_sqlite_batches_waits_for_at_most_one(db: Database) -> None:
    if db.is_postgres:
        pytest.skip("PostgreSQL has no single writer to queue for")
    order: list[str] = []
    started = asyncio.Event()
    overtaken: list[int] = []  # batches that committed between a settle's request and its turn

    async def intake(k: int) -> None:
        for n in range(30):  # back to back, as the batches of concurrent large requests
            async with db.transaction() as session:
                await session.execute(
                    text(
                        "INSERT INTO periodic_runs (job, period, started_at, instance) VALUES (:job, :n, :at, 'test')"
                    ),
                    {"job": f"intake-{k}", "n": str(n), "at": "2026-11-23 15:00:00"},
                )
                order.append(f"batch {k}.{n}")
                started.set()
                await asyncio.sleep(0.005)

    async def settle() -> None:
        await started.wait()
        for _ in range(5):
            asked = len(order)
            async with db.transaction(urgent=True) as session:
                await session.execute(text("SELECT 1"))
                overtaken.append(len(order) - asked)
            await asyncio.sleep(0.02)

    batches = [asyncio.create_task(intake(k)) for k in range(3)]
    await settle()
    await asyncio.gather(*batches)
    assert max(overtaken) <= 1  # only the batch that held the lock when the settle asked
