"""The retention job: once a day, erase contact details of leads finished long enough ago
(when ``[retention]`` asks for it), drop the payload of intake failures kept long enough
(``[retention] intake_failures_for``) and forget rate-limit scopes idle for a day.

The job runs hourly on every replica; ``claim_period`` lets exactly one of them
do each day's purge, and a day missed while every replica was down is caught up
at the next start.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from handlers.intake.failures import purge_expired as purge_failures
from handlers.messaging.periodic import claim_period
from handlers.messaging.scopes import forget_idle
from handlers.privacy.erasure import purge_expired
from handlers.services import Services

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)
JOB = "retention"


async def run_retention(services: Services) -> int | None:
    """Purge if this is the first run today (UTC); returns leads erased (0 when retention is not
    configured), or None if another run had the day."""
    if not await claim_period(services, JOB, services.clock.now().date().isoformat()):
        return None
    forgotten = await forget_idle(services.db, services.clock.now())
    if forgotten:
        log.info("retention: forgot %d rate-limit scopes idle for a day", forgotten)
    purged = await purge_failures(services)
    if purged:
        log.info("retention: dropped the payload of %d intake failures kept long enough", purged)
    if services.agreement.retention.contact_details_after is None:
        return 0
    erased = await purge_expired(services)
    log.info("retention: erased the contact details of %d finished leads", erased)
    return erased


def register(runtime: Runtime) -> None:
    # First run as soon as the scheduler starts, however long the components took to start (the
    # scheduler's wall clock, not the injected one); no grace: a purge is never too late to do.
    runtime.scheduler.add_job(
        run_retention,
        "interval",
        hours=1,
        args=[runtime.services],
        id=JOB,
        next_run_time=datetime.now(UTC),
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
        replace_existing=True,
    )
