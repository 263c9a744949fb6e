"""The score job: every hour, store today's score for leads whose behaviour points have faded
(``handlers/agreement/decay.py``); one replica does each hour's run (``claim_period``)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from handlers.agreement.decay import refresh_scores
from handlers.messaging.periodic import claim_period
from handlers.services import Services

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)
JOB = "score_decay"


async def run_decay(services: Services) -> int | None:
    """Refresh decayed scores if no replica did this hour; how many changed, or None."""
    if not await claim_period(services, JOB, services.clock.now().strftime("%Y-%m-%dT%H")):
        return None
    changed = await refresh_scores(services)
    if changed:
        log.info("scores: %d leads' behaviour points faded; stored today's score", changed)
    return changed


def register(runtime: Runtime) -> None:
    if runtime.agreement.scoring.implicit.half_life is None:
        return  # scores change only when events arrive
    runtime.scheduler.add_job(
        run_decay,
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
