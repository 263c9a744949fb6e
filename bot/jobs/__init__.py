"""Periodic work run by the runtime's APScheduler. Each module here has ``register(runtime)``."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.runtime import Runtime

# One line per module with jobs; each adds its APScheduler jobs to runtime.scheduler.
JOB_MODULES: list[str] = [
    "bot.jobs.retention",
    "bot.jobs.timers",
    "bot.jobs.digest",
    "bot.jobs.platforms",
    "bot.jobs.decay",
]


def register_jobs(runtime: Runtime) -> None:
    for name in JOB_MODULES:
        import_module(name).register(runtime)
