"""The retention purge a day missed while Baton was down is done once the process starts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.runtime import Runtime
from handlers.clock import ManualClock
from scoring.agreement import Agreement
from store.models import Lead, PeriodicRun
from tests.conftest import make_settings
from tests.factories import make_agreement
from tests.production.test_privacy import PERSON, rejected_lead


@pytest.fixture
def agreement() -> Agreement:
    return make_agreement(retention={"contact_details_after": "1d"})


@pytest.fixture
async def retaining(database_url: str, agreement: Agreement, clock: ManualClock, db: object) -> AsyncIterator[Runtime]:
    runtime = Runtime(settings=make_settings(database_url), agreement=agreement, clock=clock)
    await runtime.prepare()
    yield runtime
    await runtime.db.dispose()


async def test_the_purge_runs_at_start(retaining: Runtime, clock: ManualClock) -> None:
    lead_id = await rejected_lead(retaining.services, **PERSON)
    clock.advance(timedelta(days=2))  # Baton was down when the purge fell due
    await retaining.start()
    try:

        async def purged() -> None:
            while True:
                async with retaining.db.transaction() as session:
                    if (await session.scalars(select(PeriodicRun).where(PeriodicRun.job == "retention"))).first():
                        return
                await asyncio.sleep(0.05)

        await asyncio.wait_for(purged(), timeout=20)
    finally:
        await retaining.stop()
    async with retaining.db.transaction() as session:
        lead = await session.get(Lead, lead_id)
        assert lead is not None and lead.forgotten_at is not None
