"""``baton serve``: the aiohttp server, the runtime, and a clean shutdown on SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from bot.components import add_components
from bot.runtime import Runtime
from bot.settings import Settings
from handlers.clock import Clock, SystemClock
from scoring.agreement import Agreement

log = logging.getLogger(__name__)


async def serve(settings: Settings, agreement: Agreement, *, clock: Clock | None = None,
                stop: asyncio.Event | None = None) -> None:
    """Run until SIGTERM/SIGINT (or ``stop`` is set), then shut down in order:
    stop taking requests, finish in-flight ones, stop timers, flush the outbox within the grace."""
    runtime = Runtime(settings=settings, agreement=agreement, clock=clock or SystemClock())
    add_components(runtime)
    await runtime.prepare()
    runner = web.AppRunner(runtime.web_app(), shutdown_timeout=settings.shutdown_grace,
                           handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    await runtime.start()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("Baton listening on http://%s:%s (database %s)", settings.host, settings.port,
             settings.database_url.split("@")[-1])
    await stop.wait()
    log.info("shutting down: no new requests, finishing in-flight work")
    runtime.stopping = True
    await runner.cleanup()
    await runtime.stop()
    log.info("stopped")
