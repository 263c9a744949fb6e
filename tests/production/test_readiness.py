"""GET /readyz: 200 only when the database and every component answer, 503 while shutting down."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web

from bot.api import health
from bot.runtime import Runtime
from handlers.ports import Sender


class Platform:
    """A component whose readiness the test sets."""

    name = "chat"
    sender: Sender | None = None

    def __init__(self, answer: str = "ok", hang: bool = False) -> None:
        self.answer, self.hang = answer, hang

    def mount(self, app: web.Application) -> None:
        return None

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def ready(self) -> str:
        if self.hang:
            await asyncio.sleep(3600)
        return self.answer


async def test_ready_when_the_database_answers(api: Any) -> None:
    response = await api.get("/readyz")
    assert response.status == 200
    assert (await response.json()) == {"status": "ready", "checks": {"database": "ok"}}


async def test_a_failing_platform_makes_the_replica_unready_and_is_named(runtime: Runtime, api: Any) -> None:
    runtime.add(Platform("failing: invalid_auth"))
    response = await api.get("/readyz")
    assert response.status == 503
    assert (await response.json())["checks"]["chat"] == "failing: invalid_auth"


async def test_a_hanging_check_times_out_instead_of_hanging_the_probe(runtime: Runtime, api: Any,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health, "CHECK_TIMEOUT", 0.05)
    runtime.add(Platform(hang=True))
    response = await api.get("/readyz")
    assert response.status == 503
    assert (await response.json())["checks"]["chat"].startswith("failing: no answer within")


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
