"""The outbox worker: retries with backoff, honours Retry-After, keeps updates after their post,
and after a restart delivers what is left exactly once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from handlers.clock import ManualClock
from handlers.messaging import outbox
from handlers.messaging.delivery import DeliveryWorker
from handlers.messaging.ports import Delivered, Delivery, PermanentFailure, RetryLater
from handlers.services import Services
from handlers.views.notice import Notice
from scoring.agreement import ChannelRef
from store.models import OutboxMessage, SentMessage

CHANNEL = ChannelRef(slack="C0TEST")


class FakeSender:
    """Records deliveries; fails the next ones as scripted."""

    platform = "slack"

    def __init__(self, failures: list[Exception] | None = None) -> None:
        self.failures = list(failures or [])
        self.sent: list[Delivery] = []

    async def send(self, delivery: Delivery) -> Delivered | None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(delivery)
        return Delivered(channel="C0TEST", message_id=f"ts-{delivery.id}")


async def enqueue(services: Services, title: str, key: str | None = None) -> None:
    async with services.db.transaction() as session:
        await outbox.post(session, services, Notice(title=title), to_channel=CHANNEL, key=key)


async def rows(services: Services) -> list[OutboxMessage]:
    async with services.db.transaction() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def test_a_message_is_delivered_and_where_it_landed_is_kept(services: Services) -> None:
    sender = FakeSender()
    await enqueue(services, "hello", key="k1")
    assert await DeliveryWorker(services, {"slack": sender}).run_once() == 1
    async with services.db.transaction() as session:
        landed = await session.get(SentMessage, "slack:k1")
    assert landed is not None and landed.message_id == f"ts-{sender.sent[0].id}"
    assert (await rows(services))[0].status == "sent"


async def test_a_429_waits_for_retry_after_and_then_delivers(services: Services, clock: ManualClock) -> None:
    sender = FakeSender([RetryLater(30, "rate limited", rate_limited=True)])
    worker = DeliveryWorker(services, {"slack": sender})
    await enqueue(services, "hello")
    await worker.run_once()
    (row,) = await rows(services)
    assert row.status == "pending" and row.next_attempt_at == clock.now() + timedelta(seconds=30)
    clock.advance(timedelta(seconds=29))
    await worker.run_once()
    assert sender.sent == []
    clock.advance(timedelta(seconds=1))
    await worker.run_once()
    assert len(sender.sent) == 1


async def test_a_rate_limit_pauses_the_rest_of_the_batch_for_that_platform(services: Services) -> None:
    sender = FakeSender([RetryLater(5, "rate limited", rate_limited=True)])
    for n in range(3):
        await enqueue(services, f"m{n}")
    await DeliveryWorker(services, {"slack": sender}).run_once()
    assert sender.sent == [] and [r.attempts for r in await rows(services)] == [1, 0, 0]


async def test_server_errors_back_off_and_nothing_is_lost(services: Services, clock: ManualClock) -> None:
    sender = FakeSender([RuntimeError("500"), RuntimeError("500")])
    worker = DeliveryWorker(services, {"slack": sender})
    await enqueue(services, "hello")
    for _ in range(3):
        await worker.run_once()
        clock.advance(timedelta(minutes=5))
    (row,) = await rows(services)
    assert row.status == "sent" and row.attempts == 3 and len(sender.sent) == 1


async def test_a_permanent_failure_is_parked_with_its_reason(services: Services) -> None:
    await enqueue(services, "hello")
    await DeliveryWorker(services, {"slack": FakeSender([PermanentFailure("channel_not_found")])}).run_once()
    row, alert = await rows(services)  # the second row is the admins' alert (tests/delivery/test_alerts.py)
    assert row.status == "failed" and row.last_error == "channel_not_found"


async def test_an_update_waits_for_its_post(services: Services, clock: ManualClock) -> None:
    sender = FakeSender([RuntimeError("500")])
    worker = DeliveryWorker(services, {"slack": sender})
    await enqueue(services, "card", key="card-1")
    async with services.db.transaction() as session:
        await outbox.update(session, services, "card-1", Notice(title="card, accepted"))
    await worker.run_once()  # the post fails; the update must not go first
    assert sender.sent == []
    clock.advance(timedelta(minutes=1))
    while await worker.run_once():
        pass
    assert [d.op for d in sender.sent] == ["post", "update"]
    assert sender.sent[1].target_message == f"ts-{sender.sent[0].id}"


async def test_a_restart_delivers_what_was_left_exactly_once(services: Services, clock: ManualClock) -> None:
    for n in range(5):
        await enqueue(services, f"m{n}")
    first = FakeSender()
    # The first process claims a batch and dies before sending: its lease expires.
    claimed = await DeliveryWorker(services, {"slack": first}, batch=2)._claim()
    assert len(claimed) == 2
    clock.advance(timedelta(minutes=2))
    second = FakeSender()
    restarted = DeliveryWorker(services, {"slack": second})
    while await restarted.run_once():
        pass
    titles = sorted(d.payload["view"]["title"] for d in second.sent)
    assert titles == ["m0", "m1", "m2", "m3", "m4"] and first.sent == []
