"""One Baton process: the store, the services, the chat components, delivery and the scheduler."""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import text

from bot.metrics import Metrics
from bot.metrics import routes as metrics_routes
from bot.platform_health import PlatformMonitor
from bot.platforms import Registry, built_in
from bot.reach_report import reach_warnings
from bot.settings import Settings
from handlers.clock import Clock, SystemClock
from handlers.intake.routing_state import ensure_reps, installed
from handlers.messaging.delivery import DeliveryWorker
from handlers.messaging.ports import Sender
from handlers.messaging.settle import RetryPolicy
from handlers.services import Services
from scoring.agreement import Agreement
from store.db import Database
from store.migrate import known_revisions, upgrade

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024
# pg_advisory_lock key held while migrating, so replicas starting together migrate one at a time.
_MIGRATION_LOCK = 0x0BA7_0001


class Component(Protocol):
    """A chat platform (or other integration) plugged into the process."""

    name: str

    # Read-only, so a component may declare a narrower sender type (SlackSender, WebhookSender).
    @property
    def sender(self) -> Sender | None: ...

    def mount(self, app: web.Application) -> None: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    # "ok", or what fails ("invalid_auth", "HTTP 500"): reported as degraded, never a 503.
    async def ready(self) -> str: ...


@dataclass
class Runtime:
    settings: Settings
    agreement: Agreement
    clock: Clock = field(default_factory=SystemClock)
    components: list[Component] = field(default_factory=list)
    platforms: Registry = field(default_factory=built_in)
    stopping: bool = False
    started: bool = False

    def __post_init__(self) -> None:
        self.db = Database(self.settings.database_url)
        self.instance = f"{socket.gethostname()}:{os.getpid()}"
        self.metrics = Metrics(frozenset(r.code for r in self.agreement.rejection_reasons))
        enabled = self.platforms.enabled(self.settings)
        self.services = Services(
            db=self.db,
            agreement=self.agreement,
            clock=self.clock,
            instance=self.instance,
            chat=self.platforms.chat,
            platforms=enabled,
            on_event=self.metrics.on_event,
            reachable_on=enabled or None,
        )
        settings = self.settings
        self.worker = DeliveryWorker(
            self.services,
            {},
            lease=timedelta(seconds=settings.outbox_lease),
            pacing=settings.pacing(),
            policy=RetryPolicy(
                max_age=timedelta(seconds=settings.outbox_max_age), max_backoff=settings.outbox_max_backoff
            ),
            concurrency=settings.outbox_concurrency,
            on_result=self.metrics.on_delivery,
        )
        self.services.wake_delivery = self.worker.wake
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self._running_jobs = 0
        self._jobs_idle = asyncio.Event()
        self._jobs_idle.set()
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.platform_monitor = PlatformMonitor(self)
        self._revisions: tuple[frozenset[str], frozenset[str]] | None = None

    def add(self, component: Component) -> None:
        self.components.append(component)
        if component.sender is not None:
            self.worker.senders[component.sender.platform] = component.sender

    async def prepare(self) -> None:
        """Migrate the database and record the configured reps."""
        if self.db.is_postgres:
            # Replicas starting at once would race to create the same tables; the lock queues them.
            async with self.db.engine.connect() as lock:
                await lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
                try:
                    await upgrade(self.db.engine)
                    await self._record_agreement()  # under the lock: replicas starting at once record once
                finally:
                    await lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK})
                    await lock.commit()
        else:
            await upgrade(self.db.engine)
            await self._record_agreement()
        async with self.db.transaction() as session:
            await ensure_reps(session, self.services)
            holding = await installed(session, self.services, self.services.platforms)
        for line in reach_warnings(self.settings, self.agreement, installed=holding, platforms=self.platforms):
            log.warning("%s", line)

    async def _record_agreement(self) -> None:
        """Record the agreement's version (issue 16); ``last_changed`` then comes from the record."""
        from handlers.agreement.versions import record, with_recorded_date

        async with self.db.transaction() as session:
            recorded = await record(session, self.agreement, self.clock.now(), f"serve {self.instance}")
        if recorded.new:
            log.info(
                "agreement v%s recorded (%s), %d changes",
                recorded.version,
                recorded.content_hash[:12],
                len(recorded.changes),
            )
        self.agreement = self.services.agreement = with_recorded_date(self.agreement, recorded.changed_on)

    async def start(self) -> None:
        from bot.jobs import register_jobs

        register_jobs(self)
        self._track_jobs()
        for component in self.components:
            await component.start()
        self._tasks.append(asyncio.create_task(self.worker.run(self._stop, self.settings.outbox_interval)))
        self.scheduler.start()
        self.started = True

    def revisions(self) -> tuple[frozenset[str], frozenset[str]]:
        """The migrations this release ships and its heads (read from the scripts once)."""
        if self._revisions is None:
            self._revisions = known_revisions()
        return self._revisions

    def delivery_alive(self) -> bool:
        """False once the delivery loop has ended while the process is meant to be running."""
        return all(not task.done() for task in self._tasks)

    async def stop(self) -> None:
        """Stop in order, all within ``settings.shutdown_grace``: no new periodic jobs, let running
        ones finish, end the delivery loop, flush what the outbox can still send, then close.
        Whatever is left stays in the database for the next start (or another replica)."""
        self.stopping = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.shutdown_grace
        for component in self.components:
            # Listeners that acknowledged a request and work on after it (Slack's lazy listeners)
            # may still enqueue messages; a component that tracks them offers ``idle(timeout)``.
            idle = getattr(component, "idle", None)
            if idle is not None:
                await self._wait(idle(max(deadline - loop.time(), 0.0)), deadline, f"{component.name} listeners")
        if self.scheduler.running:
            self.scheduler.pause()
            await self._wait(self._jobs_idle.wait(), deadline, "periodic jobs")
            # Cancels only jobs still running after the grace: their transactions roll back and the
            # work (fenced timers, claimed periods) is redone by the next start or another replica.
            self.scheduler.shutdown(wait=False)
        self._stop.set()
        for task in self._tasks:
            if not await self._wait(asyncio.shield(task), deadline, "the delivery loop"):
                task.cancel()
        await self._flush(deadline)
        self.platform_monitor.close()
        for component in self.components:
            try:
                await component.stop()
            except Exception:
                log.exception("stopping %s failed", component.name)
        await self.db.dispose()
        self.started = False

    async def _wait(self, awaitable: Awaitable[object], deadline: float, what: str) -> bool:
        remaining = deadline - asyncio.get_running_loop().time()
        try:
            await asyncio.wait_for(awaitable, timeout=max(remaining, 0.01))
        except TimeoutError:
            log.warning("shutdown grace ran out waiting for %s", what)
            return False
        return True

    async def _flush(self, deadline: float) -> None:
        loop = asyncio.get_running_loop()
        while loop.time() < deadline:
            try:
                settled = await asyncio.wait_for(self.worker.run_once(), timeout=deadline - loop.time())
            except TimeoutError:
                # A send cut short keeps its lease; the row is retried once the lease expires.
                log.warning("shutdown grace ran out while flushing the outbox; the rest is left for the next start")
                return
            except Exception:
                log.exception("flushing the outbox failed; the rest is left for the next start")
                return
            if not settled:
                return

    def _track_jobs(self) -> None:
        """Wrap every registered coroutine job so shutdown can wait for the ones running."""
        for job in self.scheduler.get_jobs():
            if inspect.iscoroutinefunction(job.func):
                job.modify(func=self._tracked(job.func))

    def _tracked(self, func: Callable[..., Awaitable[object]]) -> Callable[..., Awaitable[object]]:
        @functools.wraps(func)
        async def run(*args: object, **kwargs: object) -> object:
            self._running_jobs += 1
            self._jobs_idle.clear()
            try:
                return await func(*args, **kwargs)
            finally:
                self._running_jobs -= 1
                if not self._running_jobs:
                    self._jobs_idle.set()

        return run

    def web_app(self) -> web.Application:
        from bot.api import health, leads, outcomes, sources, touches
        from bot.api.errors import json_errors
        from bot.keys import MAX_BODY as MAX_BODY_KEY
        from bot.keys import RUNTIME, SERVICES, SETTINGS

        app = web.Application(client_max_size=MAX_BODY, middlewares=[self.metrics.middleware, json_errors])
        app[MAX_BODY_KEY] = MAX_BODY
        app[SETTINGS] = self.settings
        app[SERVICES] = self.services
        app[RUNTIME] = self
        app.add_routes(health.routes)
        app.add_routes(leads.routes)
        app.add_routes(sources.routes)
        app.add_routes(outcomes.routes)
        app.add_routes(touches.routes)
        app.add_routes(metrics_routes)
        for component in self.components:
            component.mount(app)
        return app
