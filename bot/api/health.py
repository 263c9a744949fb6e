"""``GET /healthz`` (the process is up) and ``GET /readyz`` (it can do its work)."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import text

from bot.keys import RUNTIME

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    checks: dict[str, str] = {}
    try:
        async with runtime.db.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # readiness reports failures; it never raises them
        checks["database"] = f"failing: {type(exc).__name__}"
    for component in runtime.components:
        checks[component.name] = await component.ready()
    if runtime.stopping:
        checks["process"] = "shutting down"
    ready = all(v == "ok" for v in checks.values())
    return web.json_response({"status": "ready" if ready else "not ready", "checks": checks},
                             status=200 if ready else 503)
