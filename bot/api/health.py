"""``GET /healthz`` (the process is up) and ``GET /readyz`` (it can do its work).

A load balancer routes traffic only to ready replicas: ``/readyz`` answers 503
while the database or a chat platform is unreachable, once the delivery loop
has died, and from the moment shutdown begins (so the balancer drains the
replica before it closes its socket). Each check is bounded by a timeout so a
hung dependency makes the replica unready rather than the probe hang.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from aiohttp import web
from sqlalchemy import text

from bot.keys import RUNTIME

if TYPE_CHECKING:
    from bot.runtime import Runtime

routes = web.RouteTableDef()
CHECK_TIMEOUT = 5.0


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _bounded(check: Awaitable[str]) -> str:
    try:
        return await asyncio.wait_for(check, timeout=CHECK_TIMEOUT)
    except TimeoutError:
        return f"failing: no answer within {CHECK_TIMEOUT:g} s"
    except Exception as exc:  # readiness reports failures; it never raises them
        return f"failing: {type(exc).__name__}"


async def _database(runtime: Runtime) -> str:
    async with runtime.db.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    return "ok"


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    checks: dict[str, str] = {"database": await _bounded(_database(runtime))}
    for component in runtime.components:
        checks[component.name] = await _bounded(component.ready())
    if runtime.started and not runtime.stopping:
        checks["delivery"] = "ok" if runtime.delivery_alive() else "failing: the outbox loop has stopped"
        checks["scheduler"] = "ok" if runtime.scheduler.running else "failing: the scheduler is not running"
    if runtime.stopping:
        checks["process"] = "shutting down"
    ready = all(v == "ok" for v in checks.values())
    return web.json_response({"status": "ready" if ready else "not ready", "checks": checks},
                             status=200 if ready else 503)
