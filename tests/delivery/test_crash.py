"""A crash neither loses nor doubles a card: short leases, renewed while sending; doubtful re-claims."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from handlers.clock import ManualClock
from handlers.messaging import delivery, settle
from handlers.messaging.delivery import DeliveryWorker
from handlers.messaging.ports import Delivered, Delivery, RetryLater
from handlers.services import Services
from tests.delivery.conftest import ScriptedSender, enqueue, outbox_rows


class SlowSender(ScriptedSender):
    """Holds every send until ``release`` is set."""

    def __init__(self, clock: ManualClock) -> None:
        super().__init__(clock)
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def send(self, delivery: Delivery) -> Delivered | None:
        self.started.set()
        await self.release.wait()
        return await super().send(delivery)


async def wait_for_lease(services: Services, beyond: timedelta, clock: ManualClock) -> None:
    for _ in range(500):
        (row,) = await outbox_rows(services)
        if row.next_attempt_at >= clock.now() + beyond:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the lease was never renewed")


async def test_a_row_claimed_again_after_its_lease_ran_out_is_sent_as_doubtful(
    services: Services, clock: ManualClock
) -> None:
    await enqueue(services, "card")
    dead = DeliveryWorker(services, {"slack": ScriptedSender(clock)})
    (claimed,) = await dead._claim()  # claimed, then the process died before its result was recorded
    claimed_at = clock.now()
    clock.advance(timedelta(seconds=11))
    sender = ScriptedSender(clock)
    assert await DeliveryWorker(services, {"slack": sender}).run_once() == 1
    (delivery,) = sender.delivered
    assert delivery.doubtful and delivery.claimed_at == claimed_at


async def test_a_first_attempt_is_not_doubtful(services: Services, clock: ManualClock) -> None:
    await enqueue(services, "card")
    sender = ScriptedSender(clock)
    await DeliveryWorker(services, {"slack": sender}).run_once()
    assert [d.doubtful for d in sender.delivered] == [False]


async def test_a_dead_workers_row_comes_back_after_about_ten_seconds(services: Services, clock: ManualClock) -> None:
    await enqueue(services, "card")
    await DeliveryWorker(services, {"slack": ScriptedSender(clock)})._claim()
    sender = ScriptedSender(clock)
    survivor = DeliveryWorker(services, {"slack": sender})
    clock.advance(timedelta(seconds=9))
    assert await survivor.run_once() == 0
    clock.advance(timedelta(seconds=1))
    assert await survivor.run_once() == 1 and sender.titles() == ["card"]


async def test_the_lease_is_renewed_while_a_slow_send_is_in_progress(services: Services, clock: ManualClock) -> None:
    await enqueue(services, "card")
    slow = SlowSender(clock)
    worker = DeliveryWorker(services, {"slack": slow}, renew_every=0.01)
    sweep = asyncio.create_task(worker.run_once())
    await asyncio.wait_for(slow.started.wait(), 5)
    clock.advance(timedelta(seconds=8))
    await wait_for_lease(services, timedelta(seconds=9), clock)  # renewed to now + 10 s
    clock.advance(timedelta(seconds=8))  # 16 s after the claim: the first lease is long gone
    other = ScriptedSender(clock)
    assert await DeliveryWorker(services, {"slack": other}).run_once() == 0
    slow.release.set()
    assert await asyncio.wait_for(sweep, 5) == 1
    assert other.calls == [] and slow.titles() == ["card"]
    (row,) = await outbox_rows(services)
    assert row.status == "sent" and row.claimed_at is None


async def test_a_late_result_from_a_worker_whose_row_was_taken_over_still_counts_as_sent(
    services: Services, clock: ManualClock
) -> None:
    await enqueue(services, "card")
    slow = SlowSender(clock)
    stalled = DeliveryWorker(services, {"slack": slow}, renew_every=3600)  # its heartbeat never comes
    sweep = asyncio.create_task(stalled.run_once())
    await asyncio.wait_for(slow.started.wait(), 5)
    clock.advance(timedelta(seconds=11))
    slow.release.set()
    assert await asyncio.wait_for(sweep, 5) == 1
    sender = ScriptedSender(clock)
    assert await DeliveryWorker(services, {"slack": sender}).run_once() == 0
    assert [r.status for r in await outbox_rows(services)] == ["sent"] and sender.calls == []


async def test_a_send_that_never_answers_is_retried_as_doubtful(services: Services, clock: ManualClock) -> None:
    await enqueue(services, "card")
    hung = SlowSender(clock)  # never released
    assert await DeliveryWorker(services, {"slack": hung}, send_timeout=0.05).run_once() == 0
    (row,) = await outbox_rows(services)
    assert row.status == "pending" and row.error_code == "timeout"
    clock.advance(timedelta(seconds=5))
    sender = ScriptedSender(clock)
    await DeliveryWorker(services, {"slack": sender}).run_once()
    assert [d.doubtful for d in sender.delivered] == [True]


async def _retried_deliveries(services: Services, clock: ManualClock, failure: Exception) -> list[bool]:
    await enqueue(services, "card")
    await DeliveryWorker(services, {"slack": ScriptedSender(clock, lambda d: failure)}).run_once()
    clock.advance(timedelta(seconds=5))
    other = ScriptedSender(clock)  # another replica takes the retry
    await DeliveryWorker(services, {"slack": other}).run_once()
    return [d.doubtful for d in other.delivered]


async def test_an_unexpected_error_during_a_post_makes_the_retry_doubtful(
    services: Services, clock: ManualClock
) -> None:
    assert await _retried_deliveries(services, clock, RuntimeError("socket gone")) == [True]


async def test_a_sender_that_says_the_post_may_have_landed_makes_the_retry_doubtful(
    services: Services, clock: ManualClock
) -> None:
    assert await _retried_deliveries(services, clock, RetryLater(None, "HTTP 502", uncertain=True)) == [True]
    (row,) = await outbox_rows(services)
    assert row.status == "sent" and row.claimed_at is None


async def test_a_sender_that_cannot_tell_is_taken_to_mean_the_post_may_have_landed(
    services: Services, clock: ManualClock
) -> None:
    assert await _retried_deliveries(services, clock, RetryLater(None, "reset", uncertain=None)) == [True]


async def test_a_failure_known_to_be_before_sending_keeps_the_retry_plain(
    services: Services, clock: ManualClock
) -> None:
    assert await _retried_deliveries(services, clock, RetryLater(None, "HTTP 503 from the platform")) == [False]


async def test_the_sends_of_a_sweep_are_recorded_in_a_few_commits_not_one_each(
    services: Services, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:

    batches: list[int] = []

    async def counting(services: Services, sent: list[Any]) -> list[Any]:
        batches.append(len(sent))
        return await settle.settle_sent(services, sent)

    monkeypatch.setattr(delivery, "settle_sent", counting)
    for n in range(8):
        await enqueue(services, f"card {n}", channel=f"C{n}")
    sender = ScriptedSender(clock)
    assert await DeliveryWorker(services, {"slack": sender}, concurrency=8).run_once() == 8
    assert sum(batches) == 8 and len(batches) < 8
    rows = await outbox_rows(services)
    assert all(r.status == "sent" and r.claimed_at is None and r.sent_at is not None for r in rows)


async def test_a_commit_of_several_sends_that_fails_leaves_every_row_to_come_back_doubtful(
    services: Services, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:

    async def broken(services: Services, sent: list[Any]) -> list[Any]:
        raise OSError("disk full")

    monkeypatch.setattr(delivery, "settle_sent", broken)
    for n in range(3):
        await enqueue(services, f"card {n}", channel=f"C{n}")
    assert await DeliveryWorker(services, {"slack": ScriptedSender(clock)}).run_once() == 0
    monkeypatch.undo()
    clock.advance(timedelta(seconds=11))
    again = ScriptedSender(clock)
    assert await DeliveryWorker(services, {"slack": again}).run_once() == 3
    assert [d.doubtful for d in again.delivered] == [True, True, True]
