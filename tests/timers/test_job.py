"""The scheduler job: one sweep per tick, never overlapping itself, waking delivery."""

from __future__ import annotations

from datetime import timedelta

from bot.jobs import timers as timer_jobs
from bot.runtime import Runtime
from handlers.clock import ManualClock
from tests.timers.conftest import lose_pending_timers, offer


def test_register_adds_a_non_overlapping_interval_sweep(runtime: Runtime) -> None:
    timer_jobs.register(runtime)
    job = runtime.scheduler.get_job(timer_jobs.SWEEP_JOB)
    assert job.trigger.interval == timedelta(seconds=runtime.settings.timer_interval)
    assert (job.max_instances, job.coalesce) == (1, True)
    assert runtime.scheduler.get_job(timer_jobs.REPAIR_JOB) is not None


async def test_a_tick_fires_due_timers_and_wakes_delivery(runtime: Runtime, clock: ManualClock) -> None:
    woken: list[bool] = []
    runtime.services.wake_delivery = lambda: woken.append(True)
    await offer(runtime.services)
    woken.clear()
    clock.advance(timedelta(minutes=15))
    assert await timer_jobs.sweep_once(runtime) == 1
    assert woken == [True]


async def test_the_safety_net_runs_once_per_period_across_replicas(runtime: Runtime, clock: ManualClock) -> None:
    await offer(runtime.services)
    await lose_pending_timers(runtime.services)
    assert await timer_jobs.repair_once(runtime) == 1
    await lose_pending_timers(runtime.services)
    assert await timer_jobs.repair_once(runtime) == 0  # another replica's turn already ran
    clock.advance(timedelta(minutes=timer_jobs.REPAIR_MINUTES))
    assert await timer_jobs.repair_once(runtime) == 1
