"""``GET /healthz`` (the process is up) and ``GET /readyz`` (it can take requests).

``/readyz`` answers 503 only when this replica itself cannot serve: the database does not
answer, its schema is older than this release needs, the delivery loop or the scheduler has
died, or shutdown has begun (so the balancer drains the replica before it closes its socket).
A chat platform that fails its check is reported in the body as ``degraded: ...`` with a 200:
the outbox keeps what it should have received, and draining every replica would take the CRM
intake down during exactly the outage the outbox absorbs. Each check is bounded by a timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from aiohttp import web
from sqlalchemy import text

from bot.keys import RUNTIME
from store.migrate import schema_status

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
    # A read: on SQLite a plain connection would begin IMMEDIATE and wait behind every writer.
    async with runtime.db.read() as session:
        await session.execute(text("SELECT 1"))
    return "ok"


async def _migrations(runtime: Runtime) -> str:
    known, heads = runtime.revisions()
    return await schema_status(runtime.db.engine, known, heads)


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    checks: dict[str, str] = {"database": await _bounded(_database(runtime))}
    checks["migrations"] = (
        await _bounded(_migrations(runtime)) if checks["database"] == "ok" else "failing: the database does not answer"
    )
    # A dead delivery loop or scheduler is this process's own fault, not an outage outside it:
    # nothing would be delivered and no SLA timer would fire here, so send traffic elsewhere.
    if runtime.started and not runtime.stopping:
        checks["delivery"] = "ok" if runtime.delivery_alive() else "failing: the outbox loop has stopped"
        checks["scheduler"] = "ok" if runtime.scheduler.running else "failing: the scheduler is not running"
    if runtime.stopping:
        checks["process"] = "shutting down"
    ready = all(v == "ok" for v in checks.values())
    platforms = await runtime.platform_monitor.statuses()
    checks.update(platforms)
    status = "not ready" if not ready else "ready" if all(v == "ok" for v in platforms.values()) else "degraded"
    return web.json_response({"status": status, "checks": checks}, status=200 if ready else 503)
