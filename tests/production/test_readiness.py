"""GET /readyz: 503 only when this replica cannot serve; a failing chat platform is reported, not drained."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from bot.runtime import Runtime
from handlers.clock import ManualClock
from handlers.messaging.ports import Sender
from scoring.agreement import Agreement
from tests.conftest import make_settings
from tests.production.conftest import free_port


class Platform:
    """A component whose readiness the test sets; counts how often it is asked."""

    sender: Sender | None = None

    def __init__(self, answer: str = "ok", hang: bool = False, name: str = "chat") -> None:
        self.answer, self.hang, self.name = answer, hang, name
        self.calls = 0

    def mount(self, app: web.Application) -> None:
        return None

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def ready(self) -> str:
        self.calls += 1
        if self.hang:
            await asyncio.sleep(3600)
        return self.answer


async def test_ready_when_the_database_answers_and_the_schema_is_at_head(api: Any) -> None:
    response = await api.get("/readyz")
    assert response.status == 200
    assert (await response.json()) == {"status": "ready", "checks": {"database": "ok", "migrations": "ok"}}


async def test_a_failing_platform_is_reported_and_the_replica_stays_ready(runtime: Runtime, api: Any) -> None:
    runtime.add(Platform("failing: invalid_auth"))
    response = await api.get("/readyz")
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["chat"] == "degraded: invalid_auth"


async def test_a_hanging_platform_check_times_out_and_the_replica_stays_ready(runtime: Runtime, api: Any) -> None:
    runtime.platform_monitor.timeout = 0.05
    runtime.add(Platform(hang=True))
    response = await api.get("/readyz")
    assert response.status == 200
    assert (await response.json())["checks"]["chat"].startswith("degraded: no answer within")


async def test_a_slow_platform_check_does_not_hold_up_the_probe(runtime: Runtime, api: Any) -> None:
    runtime.platform_monitor.probe_wait = 0.01
    runtime.platform_monitor.timeout = 0.2
    runtime.add(Platform(hang=True))
    response = await api.get("/readyz")
    assert response.status == 200
    assert (await response.json())["checks"]["chat"] == "degraded: the first check has not answered yet"
    await runtime.platform_monitor.wait_idle()  # the check went on after the probe answered
    assert (await (await api.get("/readyz")).json())["checks"]["chat"] == "degraded: no answer within 0.2 s"


async def test_a_platform_is_checked_at_most_once_per_interval(runtime: Runtime, api: Any, clock: ManualClock) -> None:
    platform = Platform()
    runtime.add(platform)
    for _ in range(5):
        assert (await api.get("/readyz")).status == 200
        clock.advance(timedelta(seconds=5))
    assert platform.calls == 1  # 20 s of probes every 5 s: one call to the platform
    clock.advance(timedelta(seconds=runtime.settings.platform_check_interval))
    await api.get("/readyz")
    assert platform.calls == 2


async def test_concurrent_probes_share_one_platform_check(runtime: Runtime, api: Any) -> None:
    platform = Platform()
    runtime.add(platform)
    answers = await asyncio.gather(*(api.get("/readyz") for _ in range(5)))
    assert [a.status for a in answers] == [200] * 5
    assert platform.calls == 1


async def test_unready_from_the_moment_shutdown_begins(runtime: Runtime, api: Any) -> None:
    runtime.stopping = True
    response = await api.get("/readyz")
    assert response.status == 503
    assert (await response.json())["checks"]["process"] == "shutting down"


async def test_a_dead_delivery_loop_makes_a_started_replica_unready(runtime: Runtime, api: Any) -> None:
    await runtime.start()
    try:
        runtime._stop.set()  # ends the delivery loop as a crash would
        await asyncio.wait_for(asyncio.gather(*runtime._tasks), timeout=5)
        response = await api.get("/readyz")
        assert response.status == 503
        assert (await response.json())["checks"]["delivery"].startswith("failing")
    finally:
        await runtime.stop()


async def test_an_unreachable_database_makes_the_replica_unready(agreement: Agreement, clock: ManualClock) -> None:
    url = f"postgresql+asyncpg://baton@127.0.0.1:{free_port()}/baton"  # nothing listens there
    runtime = Runtime(settings=make_settings(url), agreement=agreement, clock=clock)
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(runtime.web_app(), host="127.0.0.1"))
    await client.start_server()
    try:
        response = await client.get("/readyz")
        assert response.status == 503
        checks = (await response.json())["checks"]
        assert checks["database"].startswith("failing")
        assert checks["migrations"] == "failing: the database does not answer"
    finally:
        await client.close()
        await runtime.db.dispose()


@pytest.fixture
async def schema_at(runtime: Runtime) -> AsyncIterator[Any]:
    """Set the database's recorded schema revision; the real one is put back afterwards."""
    async with runtime.db.engine.begin() as connection:
        real = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()

    async def set_revision(revision: str) -> None:
        async with runtime.db.engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": revision})

    yield set_revision
    await set_revision(real)


async def test_a_schema_behind_this_release_makes_the_replica_unready(api: Any, schema_at: Any) -> None:
    await schema_at("0001")
    response = await api.get("/readyz")
    assert response.status == 503
    assert (await response.json())["checks"]["migrations"].startswith("failing: the schema is at revision 0001")


async def test_a_schema_migrated_by_a_newer_release_keeps_the_replica_ready(api: Any, schema_at: Any) -> None:
    await schema_at("9999_from_the_next_release")
    response = await api.get("/readyz")
    assert response.status == 200
    assert (await response.json())["checks"]["migrations"] == "ok"
