"""Rate-limit scopes: a 429 pauses its scope for every worker, pacing holds a channel to its rate."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest

from handlers.clock import ManualClock
from handlers.messaging.delivery import DeliveryWorker
from handlers.messaging.ports import Delivered, Delivery, RetryLater
from handlers.messaging.scopes import PauseChecks, pause
from handlers.services import Services
from store.db import Database
from tests.delivery.conftest import ScriptedSender, enqueue, outbox_rows, paced, sweep_for


@pytest.fixture
async def other_services(services: Services, database_url: str) -> AsyncIterator[Services]:
    """A second process on the same database: its own engine, the same clock."""
    other = Database(database_url)
    yield Services(db=other, agreement=services.agreement, clock=services.clock)
    await other.dispose()


async def test_no_call_goes_into_a_paused_scope_from_any_worker(
    services: Services, other_services: Services, clock: ManualClock
) -> None:
    answered: list[int] = []

    def first_is_429(delivery: Delivery) -> Exception | None:
        if not answered:
            answered.append(delivery.id)
            return RetryLater(30, "ratelimited", rate_limited=True, scopes=("slack:channel:C1",))
        return None

    first = ScriptedSender(clock, first_is_429)
    second = ScriptedSender(clock, first_is_429)
    for n in range(4):
        await enqueue(services, f"c1-{n}", channel="C1")
    await enqueue(services, "c2", channel="C2")
    paused_at = clock.now()
    workers = [DeliveryWorker(services, {"slack": first}), DeliveryWorker(other_services, {"slack": second})]
    for _ in range(40):  # 40 seconds, each worker sweeping every second
        for worker in workers:
            await worker.run_once()
        clock.advance(timedelta(seconds=1))
    calls = first.calls + second.calls
    into_c1 = sorted(c.at for c in calls if c.channel == "C1")
    assert into_c1[0] == paused_at and all(at >= paused_at + timedelta(seconds=30) for at in into_c1[1:])
    assert [c.at for c in calls if c.channel == "C2"] == [paused_at]  # another channel was not held up
    assert sorted(first.titles() + second.titles()) == ["c1-0", "c1-1", "c1-2", "c1-3", "c2"]


async def test_a_429_naming_no_scope_pauses_the_whole_platform(services: Services, clock: ManualClock) -> None:
    sender = ScriptedSender(
        clock,
        lambda d: (
            RetryLater(5, "ratelimited", rate_limited=True)
            if d.payload["channel"] == "C1" and not sender.calls
            else None
        ),
    )
    await enqueue(services, "to C1", channel="C1")
    await enqueue(services, "to C2", channel="C2")
    worker = DeliveryWorker(services, {"slack": sender}, concurrency=1)  # C2 not already in flight
    await worker.run_once()
    clock.advance(timedelta(seconds=4))
    await worker.run_once()
    assert [c.channel for c in sender.calls] == ["C1"]
    clock.advance(timedelta(seconds=1))
    await worker.run_once()
    assert sorted(sender.titles()) == ["to C1", "to C2"]


async def test_a_claimed_row_waiting_behind_a_fresh_429_is_given_back_unsent(
    services: Services, clock: ManualClock
) -> None:
    sender = ScriptedSender(
        clock,
        lambda d: (
            RetryLater(5, "ratelimited", rate_limited=True, scopes=("slack:workspace",)) if not sender.calls else None
        ),
    )
    for n in range(3):
        await enqueue(services, f"m{n}", channel=f"C{n}")
    await DeliveryWorker(services, {"slack": sender}, concurrency=1).run_once()
    assert len(sender.calls) == 1
    rows = await outbox_rows(services)
    assert [r.attempts for r in rows] == [1, 0, 0]
    assert {r.next_attempt_at for r in rows} == {clock.now() + timedelta(seconds=5)}


async def test_pacing_holds_a_channel_to_its_rate(services: Services, clock: ManualClock) -> None:
    sender = ScriptedSender(clock)
    for n in range(8):
        await enqueue(services, f"m{n}", channel="C1")
    start = clock.now()
    worker = DeliveryWorker(services, {"slack": sender}, pacing=paced(channel="1/s burst 3"))
    await sweep_for(worker, clock, seconds=10, step=0.25)
    offsets = [(c.at - start).total_seconds() for c in sender.calls]
    assert offsets == [0, 0, 0, 1, 2, 3, 4, 5]
    assert sender.titles() == [f"m{n}" for n in range(8)]  # in order, none twice


async def test_two_workers_share_one_pace(services: Services, other_services: Services, clock: ManualClock) -> None:
    sender = ScriptedSender(clock)
    for n in range(6):
        await enqueue(services, f"m{n}", channel="C1")
    start = clock.now()
    pacing = paced(channel="1/s")
    workers = [
        DeliveryWorker(services, {"slack": sender}, pacing=pacing),
        DeliveryWorker(other_services, {"slack": sender}, pacing=pacing),
    ]
    for _ in range(24):
        for worker in workers:
            await worker.run_once()
        clock.advance(timedelta(seconds=0.25))
    assert [(c.at - start).total_seconds() for c in sender.calls] == [0, 1, 2, 3, 4, 5]


async def test_a_paced_out_row_is_not_claimed_and_the_worker_knows_when_to_look_again(
    services: Services, clock: ManualClock
) -> None:
    sender = ScriptedSender(clock)
    for n in range(2):
        await enqueue(services, f"m{n}", channel="C1")
    worker = DeliveryWorker(services, {"slack": sender}, pacing=paced(channel="1/s"))
    assert await worker.run_once() == 1
    assert await worker.run_once() == 0
    assert worker.next_slot == pytest.approx(1.0)
    second = (await outbox_rows(services))[1]
    assert second.attempts == 0 and second.claimed_at is None


async def test_a_webhook_sender_without_scopes_is_unpaced(services: Services, clock: ManualClock) -> None:
    sender = ScriptedSender(clock)
    sender.pacing_scopes = lambda delivery: ()  # type: ignore[method-assign]
    for n in range(5):
        await enqueue(services, f"m{n}", channel="C1")
    assert await DeliveryWorker(services, {"slack": sender}, pacing=paced(channel="1/s")).run_once() == 5


async def test_two_workers_claiming_at_once_cannot_both_take_the_last_slot(
    services: Services, other_services: Services, clock: ManualClock
) -> None:
    sender = ScriptedSender(clock)
    pacing = paced(workspace="1/s")
    workers = [
        DeliveryWorker(services, {"slack": sender}, pacing=pacing, batch=1),
        DeliveryWorker(other_services, {"slack": sender}, pacing=pacing, batch=1),
    ]
    await enqueue(services, "earlier", channel="C9")
    await workers[0].run_once()  # the workspace's pacing row exists from now on
    await workers[1].run_once()  # (and both workers have a connection open)
    clock.advance(timedelta(seconds=5))
    for n in range(4):
        await enqueue(services, f"m{n}", channel=f"C{n}")  # four channels, one workspace
    await asyncio.gather(*(worker.run_once() for worker in workers))
    assert len(sender.calls) == 2  # "earlier", and one of the four


async def test_a_row_already_claimed_is_held_back_by_a_429_another_worker_met(
    services: Services, other_services: Services, clock: ManualClock
) -> None:
    first_started, go_on = asyncio.Event(), asyncio.Event()

    class Slow(ScriptedSender):
        async def send(self, delivery: Delivery) -> Delivered | None:
            first_started.set()
            await go_on.wait()
            return await super().send(delivery)

    slow = Slow(clock)
    limited = ScriptedSender(
        clock, lambda d: RetryLater(30, "ratelimited", rate_limited=True, scopes=("slack:workspace",))
    )
    await enqueue(services, "m0", channel="C1")
    await enqueue(services, "m1", channel="C1")
    await enqueue(services, "m2", channel="C2")
    holding = asyncio.create_task(DeliveryWorker(services, {"slack": slow}, batch=2).run_once())
    await asyncio.wait_for(first_started.wait(), 5)  # m0 in flight, m1 claimed behind it
    await DeliveryWorker(other_services, {"slack": limited}).run_once()  # m2: 429 for the workspace
    go_on.set()
    await asyncio.wait_for(holding, 5)
    assert slow.titles() == ["m0"]  # m1 was not sent into the paused workspace
    m1 = (await outbox_rows(services))[1]
    assert m1.status == "pending" and m1.next_attempt_at == clock.now() + timedelta(seconds=30)


async def _record_pause(db: Database, scope: str, until: datetime, now: datetime) -> None:
    async with db.transaction() as session:
        await pause(session, [scope], until, "ratelimited", now, postgres=db.is_postgres)


async def test_concurrent_pause_checks_each_get_their_own_scopes_answer(db: Database, clock: ManualClock) -> None:
    now = clock.now()
    await _record_pause(db, "slack:channel:C1", now + timedelta(seconds=30), now)
    await _record_pause(db, "slack:channel:C2", now - timedelta(seconds=1), now - timedelta(seconds=2))
    checks = PauseChecks(db)
    asks = [["slack:channel:C1", "slack"], ["slack:channel:C2", "slack"], ["slack:channel:C3"]] * 10
    answers = await asyncio.gather(*(checks.paused_until(scopes, now) for scopes in asks))
    assert answers == [now + timedelta(seconds=30), None, None] * 10


async def test_a_check_asked_while_a_read_runs_sees_a_pause_committed_before_it(
    db: Database, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shared reads never answer a question from a snapshot older than the question."""
    now, until = clock.now(), clock.now() + timedelta(seconds=30)
    real_read = db.read
    read_done, go_on = asyncio.Event(), asyncio.Event()

    @asynccontextmanager
    async def held_read() -> AsyncIterator[Any]:
        async with real_read() as session:
            yield session
        if not read_done.is_set():  # the first read has its answer; hold it in flight
            read_done.set()
            await go_on.wait()

    monkeypatch.setattr(db, "read", held_read)
    checks = PauseChecks(db)
    before = asyncio.create_task(checks.paused_until(["slack:channel:C1"], now))
    await read_done.wait()
    await _record_pause(db, "slack:channel:C1", until, now)  # another replica met a 429
    after = asyncio.create_task(checks.paused_until(["slack:channel:C1"], now))
    await asyncio.sleep(0)
    go_on.set()
    assert await before is None
    assert await after == until
