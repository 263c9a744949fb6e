"""A failing chat platform is reported in the gauge and told to the admins once an hour, not by draining."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.runtime import Runtime
from handlers.clock import ManualClock
from handlers.messaging.platform_alert import alert_platform_down
from handlers.services import Services
from scoring.agreement import Agreement
from store.db import Database
from store.models import OutboxMessage, OutboxStatus
from tests.conftest import make_settings
from tests.factories import make_agreement
from tests.production.test_metrics import scrape, value
from tests.production.test_readiness import Platform

ADMIN = "morgan.manager@example.com"  # has a Slack id in the example agreement


@pytest.fixture
def agreement() -> Agreement:
    return make_agreement(roles={"admins": [ADMIN]})


async def alerts(db: Database) -> list[OutboxMessage]:
    async with db.transaction() as session:
        rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key.like("%platform-down%")))
        return list(rows.all())


async def failing_checks(runtime: Runtime, clock: ManualClock, api: Any, times: int) -> None:
    for _ in range(times):
        assert (await api.get("/readyz")).status == 200
        clock.advance(timedelta(seconds=runtime.settings.platform_check_interval + 1))


async def test_one_failing_check_alerts_nobody(runtime: Runtime, api: Any, clock: ManualClock) -> None:
    runtime.add(Platform("degraded: HTTP 500", name="slack"))
    await failing_checks(runtime, clock, api, 1)
    assert await alerts(runtime.db) == []


async def test_two_failing_checks_in_a_row_alert_the_admins_through_the_outbox(
    runtime: Runtime, api: Any, clock: ManualClock
) -> None:
    runtime.add(Platform("degraded: HTTP 500", name="slack"))
    await failing_checks(runtime, clock, api, 2)
    (row,) = await alerts(runtime.db)
    assert row.platform == "slack" and row.status == OutboxStatus.PENDING  # sent once Slack answers again
    assert row.payload["email"] == ADMIN
    assert "Slack is failing" in row.payload["view"]["title"]
    assert any("HTTP 500" in line for line in row.payload["view"]["lines"])


async def test_a_long_outage_alerts_once_per_hour(runtime: Runtime, api: Any, clock: ManualClock) -> None:
    clock.set(clock.now().replace(minute=0, second=0))
    runtime.add(Platform("degraded: HTTP 500", name="slack"))
    await failing_checks(runtime, clock, api, 60)  # about 31 minutes of probes
    assert len(await alerts(runtime.db)) == 1
    clock.advance(timedelta(hours=1))
    await failing_checks(runtime, clock, api, 1)
    assert len(await alerts(runtime.db)) == 2


async def test_two_replicas_alert_once(
    runtime: Runtime, api: Any, clock: ManualClock, database_url: str, agreement: Agreement
) -> None:
    other = Runtime(settings=make_settings(database_url), agreement=agreement, clock=clock)
    try:
        for replica in (runtime, other):
            replica.add(Platform("degraded: HTTP 500", name="slack"))
        for _ in range(3):
            await runtime.platform_monitor.statuses()
            await other.platform_monitor.statuses()
            clock.advance(timedelta(seconds=31))
        assert len(await alerts(runtime.db)) == 1
    finally:
        await other.db.dispose()


async def test_the_gauge_is_down_while_failing_and_up_once_back(runtime: Runtime, api: Any, clock: ManualClock) -> None:
    platform = Platform("degraded: HTTP 500", name="slack")
    runtime.add(platform)
    await api.get("/readyz")
    assert value(await scrape(api), "baton_platform_up", platform="slack") == 0
    platform.answer = "ok"
    clock.advance(timedelta(seconds=31))
    await api.get("/readyz")
    assert value(await scrape(api), "baton_platform_up", platform="slack") == 1


async def test_without_an_admin_on_chat_the_managers_channel_is_told(db: Database, clock: ManualClock) -> None:
    # The example agreement's only admin (revops@) has no chat identity.
    services = Services(db=db, agreement=make_agreement(), clock=clock)
    assert await alert_platform_down(services, "teams", "HTTP 502") == 1
    (row,) = await alerts(db)
    assert row.payload["channel"] == "C0SALESMGRS"
