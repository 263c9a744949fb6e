"""The weekly digest and the daily check for the quarterly review reminder, on the scheduler.

Both handlers claim their period in the database, so every replica may run
these jobs: exactly one sends.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from apscheduler.triggers.cron import CronTrigger

from bot.jobs.catch_up import catch_up
from handlers.digest.review import run_review_reminder
from handlers.digest.weekly import run_weekly_digest

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)
DIGEST_JOB = "digest.weekly"
REVIEW_JOB = "digest.review_reminder"
CATCH_UP_JOB = "digest.catch_up"
REVIEW_HOUR = 9


async def digest_once(runtime: Runtime) -> int:
    messages = await run_weekly_digest(runtime.services)
    log.info("weekly digest: %d messages enqueued", len(messages))
    return len(messages)


async def review_once(runtime: Runtime) -> int:
    messages = await run_review_reminder(runtime.services)
    if messages:
        log.info("review reminder: %d reviewers reminded", len(messages))
    return len(messages)


def digest_trigger(runtime: Runtime) -> CronTrigger:
    digest = runtime.agreement.digest
    hour, minute = (int(part) for part in digest.time.split(":"))
    return CronTrigger(day_of_week=digest.day, hour=hour, minute=minute, timezone=digest.timezone)


def register(runtime: Runtime) -> None:
    # One grace for both cases: a busy process running late (APScheduler's misfire grace) and a
    # process that was down at the scheduled minute (the catch-up at start).
    grace = int(runtime.settings.catch_up_grace) or 1
    runtime.scheduler.add_job(
        digest_once,
        digest_trigger(runtime),
        args=[runtime],
        id=DIGEST_JOB,
        replace_existing=True,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=grace,
    )
    runtime.scheduler.add_job(
        review_once,
        CronTrigger(hour=REVIEW_HOUR, minute=0, timezone=runtime.agreement.digest.timezone),
        args=[runtime],
        id=REVIEW_JOB,
        replace_existing=True,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=grace,
    )
    # Once, as soon as the scheduler runs, however long the components took to start.
    runtime.scheduler.add_job(
        catch_up,
        "date",
        run_date=datetime.now(UTC),
        args=[runtime, (DIGEST_JOB, REVIEW_JOB)],
        id=CATCH_UP_JOB,
        replace_existing=True,
        misfire_grace_time=None,
    )
