"""The safety net re-creates a live chain's missing timer, and never repeats a step."""

from __future__ import annotations

from handlers.clock import ManualClock
from handlers.followup.timers import repair, sweep
from handlers.services import Services
from store.models import Timer
from tests.timers.conftest import at, lose_pending_timers, ny, offer, rows


async def test_a_lost_timer_is_recreated_at_the_next_step_not_the_first(services: Services, clock: ManualClock) -> None:
    await offer(services)
    at(clock, "10:15")
    await sweep(services)
    await lose_pending_timers(services)
    assert await repair(services) == 1
    (pending,) = await rows(services, Timer, Timer.status == "pending")
    assert (pending.chain, pending.step, pending.due_at) == ("accept", 1, ny(23, "10:30"))


async def test_healthy_and_finished_chains_are_left_alone(services: Services, clock: ManualClock) -> None:
    await offer(services)
    assert await repair(services) == 0
    await lose_pending_timers(services)
    assert await repair(services) == 1
    assert await repair(services) == 0
