"""``baton serve``: the aiohttp server, the runtime, and a clean shutdown on SIGTERM.

Shutdown order, each step bounded by ``settings.shutdown_grace``:

1. ``/readyz`` turns 503 (``runtime.stopping``) so a load balancer drains the replica;
2. the listening socket closes; requests already received finish (their 202 means stored);
3. the scheduler takes no new jobs and running jobs finish;
4. the outbox flushes what it can; the rest stays in the database for the next start.

A process manager should allow about three grace periods before it sends SIGKILL.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from bot.components import add_components
from bot.logs import mask_secrets
from bot.runtime import Runtime
from bot.settings import ConfigError, Settings
from handlers.clock import Clock, SystemClock
from scoring.agreement import Agreement

log = logging.getLogger(__name__)


def _secrets(settings: Settings) -> list[str | None]:
    return [
        settings.intake_token,
        settings.intake_hmac_secret,
        settings.webhook_secret,
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
        settings.microsoft_app_password,
        *settings.source_secrets(),
    ]


async def serve(
    settings: Settings, agreement: Agreement, *, clock: Clock | None = None, stop: asyncio.Event | None = None
) -> None:
    """Run until SIGTERM/SIGINT (or ``stop`` is set), then shut down in order:
    stop taking requests, finish in-flight ones, stop timers, flush the outbox within the grace."""
    mask_secrets(_secrets(settings))
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    # Installed first: a SIGTERM during migration still ends in an orderly stop, not a kill.
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runtime = Runtime(settings=settings, agreement=agreement, clock=clock or SystemClock())
    try:
        add_components(runtime)
    except ConfigError as exc:
        log.error("configuration is invalid (%s): %s", exc.source, "; ".join(exc.problems))
        raise SystemExit(2) from None
    await runtime.prepare()
    runner = web.AppRunner(
        runtime.web_app(), shutdown_timeout=settings.shutdown_grace, handle_signals=False, access_log=None
    )
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    await runtime.start()
    log.info(
        "Baton listening on http://%s:%s (database %s)",
        settings.host,
        settings.port,
        settings.database_url.split("@")[-1],
    )
    try:
        await stop.wait()
    finally:
        log.info("shutting down: no new requests, finishing in-flight work")
        runtime.stopping = True
        await runner.cleanup()
        await runtime.stop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        log.info("stopped")
