"""The SLA timer sweep and its safety net, on the runtime's scheduler.

Nothing about timers is held in memory: each tick reads due rows from the
database, so a restart loses nothing and overdue timers fire on the first tick.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from handlers.followup.timers import repair, sweep
from handlers.messaging.periodic import claim_period

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)
SWEEP_JOB = "timers.sweep"
REPAIR_JOB = "timers.repair"
REPAIR_MINUTES = 5


async def sweep_once(runtime: Runtime) -> int:
    """One tick: fire what is due (each batch wakes delivery for what it enqueued)."""
    return await sweep(runtime.services, batch=runtime.settings.timer_batch)


async def repair_once(runtime: Runtime) -> int:
    """The safety net, once per period however many replicas run it."""
    now = runtime.services.clock.now()
    bucket = now.replace(minute=now.minute - now.minute % REPAIR_MINUTES, second=0, microsecond=0)
    if not await claim_period(runtime.services, REPAIR_JOB, bucket.isoformat()):
        return 0
    return await repair(runtime.services)


def register(runtime: Runtime) -> None:
    # max_instances=1 and coalesce: a slow sweep is never overlapped by the next tick in this process
    # (other replicas may sweep at the same time; the row locks keep that safe).
    runtime.scheduler.add_job(
        sweep_once,
        "interval",
        args=[runtime],
        id=SWEEP_JOB,
        replace_existing=True,
        seconds=runtime.settings.timer_interval,
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC),
    )
    runtime.scheduler.add_job(
        repair_once,
        "interval",
        args=[runtime],
        id=REPAIR_JOB,
        replace_existing=True,
        minutes=REPAIR_MINUTES,
        max_instances=1,
        coalesce=True,
    )
