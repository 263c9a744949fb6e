"""Several sweepers on one database (replicas): every step fires exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter

from handlers.followup.timers import sweep
from handlers.services import Services
from store.db import Database
from store.models import AuditEvent, OutboxMessage, Timer
from tests.timers.conftest import rows, seed_due_offers

DUE = 2000


async def test_two_sweepers_fire_each_of_2000_due_steps_exactly_once(services: Services, database_url: str) -> None:
    await seed_due_offers(services, DUE)
    replicas = [
        Services(db=Database(database_url), agreement=services.agreement, clock=services.clock) for _ in range(2)
    ]
    try:
        settled = await asyncio.gather(*(sweep(r, limit=10 * DUE) for r in replicas))
    finally:
        for replica in replicas:
            await replica.db.dispose()
    assert sum(settled) == DUE
    nudged = Counter(e.lead_id for e in await rows(services, AuditEvent, AuditEvent.action == "sla.nudged"))
    assert len(nudged) == DUE and set(nudged.values()) == {1}
    timers = Counter((t.step, t.status) for t in await rows(services, Timer))
    assert timers == {(0, "fired"): DUE, (1, "pending"): DUE}
    assert len(await rows(services, OutboxMessage, OutboxMessage.kind == "post")) == DUE
