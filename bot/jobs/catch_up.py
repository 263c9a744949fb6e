"""Run, once at start, the scheduled work that fell due while Baton was down.

APScheduler computes a cron job's next run from the moment it starts, so a digest due at
08:00 is never sent by a process that was down from 07:55 to 08:05: its misfire grace only
covers a process that was running but busy. At start, each catch-up job whose latest scheduled
time lies within ``settings.catch_up_grace`` is run once. Exactly once across replicas (and
nothing at all after a normal restart when the run already happened) comes from the job itself:
it claims its period in ``periodic_runs``, so every replica but the first does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.triggers.base import BaseTrigger

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)


def missed_at(trigger: BaseTrigger, now: datetime, grace: float) -> datetime | None:
    """The first time ``trigger`` was due in the last ``grace`` seconds up to ``now``, or None."""
    fire: datetime | None = trigger.get_next_fire_time(None, now - timedelta(seconds=grace))
    return fire if fire is not None and fire <= now else None


async def catch_up(runtime: Runtime, jobs: Sequence[str]) -> dict[str, object]:
    """Run each of ``jobs`` (scheduler job ids) that fell due within the grace; returns what each
    returned (a job that another replica or an earlier run already did returns nothing to send)."""
    now = runtime.clock.now()
    ran: dict[str, object] = {}
    for job_id in jobs:
        job = runtime.scheduler.get_job(job_id)
        if job is None:
            continue
        due = missed_at(job.trigger, now, runtime.settings.catch_up_grace)
        if due is None:
            continue
        log.info("%s was due at %s; running it now in case it was missed while Baton was down", job_id, due.isoformat())
        try:
            ran[job_id] = await job.func(*job.args, **job.kwargs)
        except Exception:  # one failing job must not keep the others from catching up
            log.exception("catching up %s failed; its next scheduled run will try again", job_id)
    return ran
