"""The scheduler runs the digest at the agreement's day, time and timezone, and checks the review daily."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.jobs import JOB_MODULES
from bot.jobs.digest import DIGEST_JOB, REVIEW_JOB, digest_once, register
from bot.runtime import Runtime
from tests.queries.conftest import Seeder


def test_digest_module_is_registered() -> None:
    assert "bot.jobs.digest" in JOB_MODULES


def test_digest_fires_monday_eight_in_new_york(runtime: Runtime) -> None:
    register(runtime)
    trigger = runtime.scheduler.get_job(DIGEST_JOB).trigger
    # Sunday 29 Nov 2026 noon UTC: the next firing is Monday 30 Nov 08:00 EST = 13:00 UTC.
    fire = trigger.get_next_fire_time(None, datetime(2026, 11, 29, 12, tzinfo=UTC))
    assert fire.astimezone(UTC) == datetime(2026, 11, 30, 13, tzinfo=UTC)
    assert runtime.scheduler.get_job(REVIEW_JOB) is not None


async def test_the_job_enqueues_the_digest_once(runtime: Runtime, week: Seeder) -> None:
    assert await digest_once(runtime) == 3
    assert await digest_once(runtime) == 0
