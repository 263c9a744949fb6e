"""One run per job and period, however many replicas try: the first insert wins."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.services import Services
from store.models import PeriodicRun


async def _nothing(_session: AsyncSession) -> None:
    return None


async def once_per_period(
    services: Services, job: str, period: str, work: Callable[[AsyncSession], Awaitable[None]] = _nothing
) -> bool:
    """Claim (job, period) and do ``work`` in the same transaction, so a crash can neither lose
    the work nor let a second run repeat it. True for exactly one caller; the rest do nothing."""
    try:
        async with services.db.transaction() as session:
            session.add(
                PeriodicRun(job=job, period=period, started_at=services.clock.now(), instance=services.instance)
            )
            await session.flush()
            await work(session)
    except IntegrityError:
        return False
    services.wake_delivery()
    return True


async def claim_period(services: Services, job: str, period: str) -> bool:
    """True for exactly one caller per (job, period); the work follows in its own transactions."""
    return await once_per_period(services, job, period)
