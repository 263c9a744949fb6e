"""Check the chat platforms on a timer too, so the gauge and the admins' alert do not depend on
a load balancer probing ``/readyz``. The monitor's cache keeps it to one call per interval."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.runtime import Runtime

JOB = "platforms.check"


async def check_platforms(runtime: Runtime) -> dict[str, str]:
    return await runtime.platform_monitor.statuses()


def register(runtime: Runtime) -> None:
    if not runtime.components:
        return
    runtime.scheduler.add_job(
        check_platforms,
        "interval",
        seconds=runtime.settings.platform_check_interval,
        args=[runtime],
        id=JOB,
        replace_existing=True,
        max_instances=1,
        coalesce=True,
    )
