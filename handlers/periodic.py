"""One run per job and period, however many replicas try: the first insert wins."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from handlers.services import Services
from store.models import PeriodicRun


async def claim_period(services: Services, job: str, period: str) -> bool:
    """True for exactly one caller per (job, period); the rest get False and do nothing."""
    try:
        async with services.db.transaction() as session:
            session.add(PeriodicRun(job=job, period=period, started_at=services.clock.now(),
                                    instance=services.instance))
    except IntegrityError:
        return False
    return True
