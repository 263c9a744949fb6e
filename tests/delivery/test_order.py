"""Under a backlog: fast-track leads' cards first, then the oldest; an update never overtakes its post."""

from __future__ import annotations

from datetime import timedelta

from handlers.clock import ManualClock
from handlers.messaging import outbox
from handlers.messaging.delivery import DeliveryWorker
from handlers.messaging.ports import RetryLater
from handlers.services import Services
from handlers.views.notice import Notice
from tests.delivery.conftest import ScriptedSender, enqueue, enqueue_card, outbox_rows, paced, sweep_for


async def test_fast_track_cards_go_first_under_a_backlog(services: Services, clock: ManualClock) -> None:
    sender = ScriptedSender(clock)
    for n in range(4):
        await enqueue_card(services, f"lead {n}")
    await enqueue_card(services, "demo request", fast_track=True)
    await enqueue_card(services, "trial request", fast_track=True)
    worker = DeliveryWorker(services, {"slack": sender}, pacing=paced(channel="1/s"))
    await sweep_for(worker, clock, seconds=8, step=0.5)
    assert sender.titles() == ["demo request", "trial request", "lead 0", "lead 1", "lead 2", "lead 3"]


async def test_a_fast_track_card_is_stored_with_a_higher_priority(services: Services) -> None:
    await enqueue_card(services, "lead")
    await enqueue_card(services, "demo request", fast_track=True)
    await enqueue(services, "a notice")
    assert [r.priority for r in await outbox_rows(services)] == [0, 10, 0]


async def test_an_update_waits_for_its_post_while_the_post_is_paced_out(services: Services, clock: ManualClock) -> None:
    sender = ScriptedSender(clock)
    await enqueue(services, "earlier", channel="C1")
    await enqueue(services, "card", channel="C1", key="card-1")
    async with services.db.transaction() as session:
        await outbox.update(session, services, "card-1", Notice(title="card, accepted"))
    worker = DeliveryWorker(services, {"slack": sender}, pacing=paced(channel="1/s"))
    await sweep_for(worker, clock, seconds=4, step=0.25)
    assert [(d.op, d.payload["view"]["title"]) for d in sender.delivered] == [
        ("post", "earlier"),
        ("post", "card"),
        ("update", "card, accepted"),
    ]


async def test_an_update_waits_for_its_post_while_the_post_is_retried(services: Services, clock: ManualClock) -> None:
    failures = [RetryLater(None, "http_500")]
    sender = ScriptedSender(clock, lambda d: failures.pop() if failures and d.op == "post" else None)
    await enqueue(services, "card", key="card-1")
    async with services.db.transaction() as session:
        await outbox.update(session, services, "card-1", Notice(title="card, accepted"))
    worker = DeliveryWorker(services, {"slack": sender})
    await worker.run_once()
    assert sender.delivered == []
    clock.advance(timedelta(seconds=5))
    while await worker.run_once():
        pass
    assert [d.op for d in sender.delivered] == ["post", "update"]
    assert sender.delivered[1].target_message == f"ts-{sender.delivered[0].id}"
    assert [r.status for r in await outbox_rows(services)] == ["sent", "sent"]
