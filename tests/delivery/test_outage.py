"""Transient failures never give a message up while it is young enough to matter."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from handlers.clock import ManualClock
from handlers.messaging.delivery import DeliveryWorker
from handlers.messaging.ports import Delivery, RetryLater
from handlers.messaging.settle import RetryPolicy
from handlers.services import Services
from store.models import OutboxMessage
from tests.delivery.conftest import ScriptedSender, enqueue, outbox_rows


async def test_a_two_hour_outage_parks_nothing_and_then_delivers_everything_once(
    services: Services, clock: ManualClock
) -> None:
    down = True

    def outage(delivery: Delivery) -> Exception | None:
        return RetryLater(None, "http_500: internal_error") if down else None

    sender = ScriptedSender(clock, outage)
    for n in range(5):
        await enqueue(services, f"m{n}", channel=f"C{n}")
    worker = DeliveryWorker(services, {"slack": sender}, policy=RetryPolicy(rng=random.Random(7)))
    end = clock.now() + timedelta(hours=2)
    while clock.now() < end:
        await worker.run_once()
        clock.advance(timedelta(seconds=20))
    rows = await outbox_rows(services)
    assert {r.status for r in rows} == {"pending"} and min(r.attempts for r in rows) > 12
    down = False
    clock.advance(timedelta(minutes=2))  # the longest backoff
    await worker.run_once()
    assert sorted(sender.titles()) == [f"m{n}" for n in range(5)]
    assert {r.status for r in await outbox_rows(services)} == {"sent"}


async def test_backoff_grows_with_jitter_and_stays_under_its_cap() -> None:
    policy = RetryPolicy(max_backoff=120.0, rng=random.Random(1))
    delays = [policy.backoff(attempt) for attempt in range(1, 30)]
    assert delays[0] <= 1.0 and all(d <= 120.0 for d in delays)
    assert all(d >= 60.0 for d in delays[8:])  # capped at 120, never less than half of it
    assert len({round(d, 6) for d in delays[8:]}) > 10  # spread, not in lockstep


async def test_a_message_too_old_to_matter_is_parked_with_an_alert(services: Services, clock: ManualClock) -> None:
    sender = ScriptedSender(
        clock, lambda d: RetryLater(None, "http_503: service_unavailable") if d.payload.get("channel") == "C1" else None
    )
    await enqueue(services, "stale", channel="C1")
    worker = DeliveryWorker(services, {"slack": sender}, policy=RetryPolicy(max_age=timedelta(days=3)))
    for _ in range(3 * 24 + 1):
        await worker.run_once()
        clock.advance(timedelta(hours=1))
    await worker.run_once()  # the alert enqueued as the row was parked
    async with services.db.transaction() as session:
        row = await session.get(OutboxMessage, 1)
        alerts = list((await session.scalars(select(OutboxMessage).where(OutboxMessage.id != 1))).all())
    assert row is not None and row.status == "failed" and row.error_code == "http_503"
    assert "given up after 3.0 days" in (row.last_error or "")
    (alert,) = alerts
    assert alert.payload["channel"] == "C0SALESMGRS"
    assert "gave up delivering to Slack" in alert.payload["view"]["title"]
    assert sender.titles() == [alert.payload["view"]["title"]]  # the alert itself went out


async def test_a_rate_limit_is_retried_past_twelve_attempts(services: Services, clock: ManualClock) -> None:
    limited = 20
    calls: list[int] = []

    def busy(delivery: Delivery) -> Exception | None:
        calls.append(delivery.id)
        return RetryLater(1, "ratelimited", rate_limited=True) if len(calls) <= limited else None

    sender = ScriptedSender(clock, busy)
    await enqueue(services, "hello")
    worker = DeliveryWorker(services, {"slack": sender})
    for _ in range(limited + 1):
        await worker.run_once()
        clock.advance(timedelta(seconds=1))
    (row,) = await outbox_rows(services)
    assert row.status == "sent" and row.attempts == limited + 1
