"""How each chat platform is doing: checked at most once per interval, reported, alerted on.

A failing platform never makes the replica unready (the outbox absorbs the outage); it is
reported in ``/readyz``'s body, in the ``baton_platform_up`` gauge and, after two failing
checks in a row, to the admins through the outbox (once per platform per hour).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from handlers.messaging.platform_alert import alert_dedupe, alert_platform_down

if TYPE_CHECKING:
    from bot.runtime import Component, Runtime

log = logging.getLogger(__name__)
CHECK_TIMEOUT = 5.0
# How long a probe waits for a check in flight before it answers with the last known state.
PROBE_WAIT = 1.0
# One failed check may be a blip; two in a row (about an interval apart) is an outage worth a message.
ALERT_AFTER = 2


@dataclass(frozen=True)
class Checked:
    text: str
    at: datetime


def degraded(answer: str) -> str:
    """A component's answer as a status: "ok", or "degraded: <what failed>"."""
    if answer == "ok":
        return "ok"
    for prefix in ("failing: ", "degraded: "):
        answer = answer.removeprefix(prefix)
    return f"degraded: {answer or 'unknown'}"


class PlatformMonitor:
    """Caches each component's ``ready()`` for ``settings.platform_check_interval`` seconds.

    A probe waits at most ``probe_wait`` seconds for a check: a platform that hangs must not
    make ``/readyz`` itself slow (a balancer that times the probe out would drain the replica).
    The check goes on in the background and the probe reports the last known state meanwhile.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.timeout = CHECK_TIMEOUT
        self.probe_wait = PROBE_WAIT
        self._cache: dict[str, Checked] = {}
        self._running: dict[str, asyncio.Task[str]] = {}
        self._failures: dict[str, int] = {}
        self._alerted: dict[str, str] = {}

    async def statuses(self) -> dict[str, str]:
        """Every component's status, checking only those whose last result is too old."""
        return {c.name: await self.status(c) for c in self.runtime.components}

    async def status(self, component: Component) -> str:
        cached = self._fresh(component.name)
        if cached is not None:
            return cached
        task = self._running.get(component.name)
        if task is None:  # concurrent probes share the one check in flight
            task = asyncio.create_task(self._refresh(component))
            self._running[component.name] = task
        done, _ = await asyncio.wait({task}, timeout=self.probe_wait)
        if done:
            return task.result()
        last = self._cache.get(component.name)
        return last.text if last is not None else "degraded: the first check has not answered yet"

    async def wait_idle(self) -> None:
        """Until no check is in flight (tests; shutdown)."""
        while self._running:
            await asyncio.wait(set(self._running.values()))

    def close(self) -> None:
        for task in self._running.values():
            task.cancel()

    async def _refresh(self, component: Component) -> str:
        try:
            text = await self._check(component)
            self._cache[component.name] = Checked(text, self.runtime.clock.now())
            await self._after(component.name, text)
            return text
        finally:
            self._running.pop(component.name, None)

    def _fresh(self, name: str) -> str | None:
        cached = self._cache.get(name)
        if cached is None:
            return None
        age = (self.runtime.clock.now() - cached.at).total_seconds()
        return cached.text if 0 <= age < self.runtime.settings.platform_check_interval else None

    async def _check(self, component: Component) -> str:
        try:
            return degraded(await asyncio.wait_for(component.ready(), timeout=self.timeout))
        except TimeoutError:
            return f"degraded: no answer within {self.timeout:g} s"
        except Exception as exc:  # a check reports failures; it never raises them
            return f"degraded: {type(exc).__name__}"

    async def _after(self, name: str, text: str) -> None:
        self.runtime.metrics.platform_up.labels(name).set(1 if text == "ok" else 0)
        if text == "ok":
            if self._failures.get(name):
                log.info("%s answers its health check again", name)
            self._failures[name] = 0
            return
        self._failures[name] = self._failures.get(name, 0) + 1
        log.warning("%s failed its health check: %s", name, text)
        stem = alert_dedupe(name, self.runtime.clock.now())
        if self._failures[name] < ALERT_AFTER or self._alerted.get(name) == stem:
            return
        try:
            await alert_platform_down(self.runtime.services, name, text.removeprefix("degraded: "))
        except Exception:  # the database may be down too; the next failing check tries again
            log.exception("could not enqueue the alert that %s is failing", name)
            return
        self._alerted[name] = stem
