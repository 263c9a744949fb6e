"""The daily retention job forgets rate-limit scopes idle for a day, and only those."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.jobs.retention import run_retention
from handlers.clock import ManualClock
from handlers.messaging.delivery import DeliveryWorker
from handlers.messaging.ports import RetryLater
from handlers.services import Services
from store.models import DeliveryScope
from tests.delivery.conftest import ScriptedSender, enqueue, paced


async def scopes(services: Services) -> set[str]:
    async with services.db.read() as session:
        return set((await session.scalars(select(DeliveryScope.scope))).all())


async def test_scopes_idle_for_a_day_are_forgotten_and_busy_or_paused_ones_kept(
    services: Services, clock: ManualClock
) -> None:
    pacing = paced(channel="1/s burst 3", workspace="5/s burst 20")
    await enqueue(services, "old", channel="C0GONE")
    await DeliveryWorker(services, {"slack": ScriptedSender(clock)}, pacing=pacing).run_once()
    clock.advance(timedelta(days=2))
    await enqueue(services, "paused", channel="C0PAUSED")
    limited = ScriptedSender(
        clock,
        lambda d: RetryLater(3 * 24 * 3600.0, "ratelimited", rate_limited=True, scopes=("slack:channel:C0PAUSED",)),
    )
    await DeliveryWorker(services, {"slack": limited}, pacing=pacing).run_once()
    clock.advance(timedelta(hours=25))
    await enqueue(services, "fresh", channel="C0BUSY")
    await DeliveryWorker(services, {"slack": ScriptedSender(clock)}, pacing=pacing).run_once()
    before = await scopes(services)
    assert {"slack:channel:C0GONE", "slack:channel:C0PAUSED", "slack:channel:C0BUSY"} <= before

    assert await run_retention(services) == 0  # no [retention] configured: nothing erased, scopes still tidied
    after = await scopes(services)
    assert "slack:channel:C0GONE" not in after  # idle for three days
    assert "slack:channel:C0PAUSED" in after  # its Retry-After pause still runs
    assert {"slack:channel:C0BUSY", "slack:workspace"} <= after  # used just now


async def test_a_forgotten_scope_is_recreated_when_used_again(services: Services, clock: ManualClock) -> None:
    pacing = paced(channel="1/s burst 3")
    await enqueue(services, "first", channel="C0AGAIN")
    await DeliveryWorker(services, {"slack": ScriptedSender(clock)}, pacing=pacing).run_once()
    clock.advance(timedelta(days=2))
    await run_retention(services)
    assert "slack:channel:C0AGAIN" not in await scopes(services)
    await enqueue(services, "second", channel="C0AGAIN")
    sender = ScriptedSender(clock)
    assert await DeliveryWorker(services, {"slack": sender}, pacing=pacing).run_once() == 1
    assert sender.titles() == ["second"] and "slack:channel:C0AGAIN" in await scopes(services)
