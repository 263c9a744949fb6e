"""One Baton process: the store, the services, the chat components, delivery and the scheduler."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from dataclasses import dataclass, field
from typing import Protocol

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.settings import Settings
from handlers.clock import Clock, SystemClock
from handlers.delivery import DeliveryWorker
from handlers.ports import Sender
from handlers.routing_state import ensure_reps
from handlers.services import Services
from scoring.agreement import Agreement
from store.db import Database
from store.migrate import upgrade

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024


class Component(Protocol):
    """A chat platform (or other integration) plugged into the process."""

    name: str
    sender: Sender | None

    def mount(self, app: web.Application) -> None: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def ready(self) -> str: ...


@dataclass
class Runtime:
    settings: Settings
    agreement: Agreement
    clock: Clock = field(default_factory=SystemClock)
    components: list[Component] = field(default_factory=list)
    stopping: bool = False

    def __post_init__(self) -> None:
        self.db = Database(self.settings.database_url)
        self.instance = f"{socket.gethostname()}:{os.getpid()}"
        platforms = frozenset({"slack"} | ({"teams"} if self.settings.teams_enabled else set()))
        self.services = Services(db=self.db, agreement=self.agreement, clock=self.clock,
                                 instance=self.instance, platforms=platforms)
        self.worker = DeliveryWorker(self.services, {})
        self.services.wake_delivery = self.worker.wake
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def add(self, component: Component) -> None:
        self.components.append(component)
        if component.sender is not None:
            self.worker.senders[component.sender.platform] = component.sender

    async def prepare(self) -> None:
        """Migrate the database and record the configured reps."""
        await upgrade(self.db.engine)
        async with self.db.transaction() as session:
            await ensure_reps(session, self.services)

    async def start(self) -> None:
        from bot.jobs import register_jobs

        register_jobs(self)
        for component in self.components:
            await component.start()
        self._tasks.append(asyncio.create_task(self.worker.run(self._stop, self.settings.outbox_interval)))
        self.scheduler.start()

    async def stop(self) -> None:
        """Stop timers and periodic jobs, then give delivery a grace period to flush."""
        self.stopping = True
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self._stop.set()
        for task in self._tasks:
            try:
                await asyncio.wait_for(task, timeout=self.settings.shutdown_grace)
            except TimeoutError:
                task.cancel()
        await self._flush(self.settings.shutdown_grace)
        for component in self.components:
            await component.stop()
        await self.db.dispose()

    async def _flush(self, grace: float) -> None:
        deadline = asyncio.get_running_loop().time() + grace
        while asyncio.get_running_loop().time() < deadline:
            try:
                if not await self.worker.run_once():
                    return
            except Exception:
                log.exception("flushing the outbox failed; the rest is left for the next start")
                return

    def web_app(self) -> web.Application:
        from bot.api import health, leads
        from bot.api.errors import json_errors
        from bot.keys import MAX_BODY as MAX_BODY_KEY
        from bot.keys import RUNTIME, SERVICES, SETTINGS

        app = web.Application(client_max_size=MAX_BODY, middlewares=[json_errors])
        app[MAX_BODY_KEY] = MAX_BODY
        app[SETTINGS] = self.settings
        app[SERVICES] = self.services
        app[RUNTIME] = self
        app.add_routes(health.routes)
        app.add_routes(leads.routes)
        for component in self.components:
            component.mount(app)
        return app
