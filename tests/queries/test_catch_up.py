"""Scheduled work that fell due while Baton was down runs once at start, within the catch-up grace.

The example digest is due Mondays 08:00 in New York (13:00 UTC); the clock starts on Monday
23 Nov 2026 at 15:00 UTC, two hours after it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.jobs.catch_up import catch_up, missed_at
from bot.jobs.digest import DIGEST_JOB, REVIEW_JOB, digest_once, digest_trigger, register
from bot.runtime import Runtime
from bot.settings import ConfigError, load_settings
from handlers.clock import ManualClock
from scoring.agreement import Agreement
from store.db import Database
from store.models import OutboxMessage, PeriodicRun
from tests.conftest import make_settings
from tests.factories import make_agreement
from tests.queries.conftest import Seeder

JOBS = (DIGEST_JOB, REVIEW_JOB)
REVIEWERS = ["morgan.manager@example.com", "mark.marketer@example.com"]


@pytest.fixture
def agreement() -> Agreement:
    # The review falls due on 1 Jan 2027: not yet in November.
    return make_agreement(
        definition={
            "version": "2026.4",
            "last_changed": date(2026, 10, 1),
            "review_every_months": 3,
            "reviewers": REVIEWERS,
        }
    )


async def digest_rows(db: Database) -> int:
    async with db.transaction() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.dedupe_key.like("%digest:%"))
            )
            or 0
        )


def replica(database_url: str, agreement: Agreement, clock: ManualClock, **settings: object) -> Runtime:
    runtime = Runtime(settings=make_settings(database_url, **settings), agreement=agreement, clock=clock)
    register(runtime)
    return runtime


def test_missed_at_finds_the_scheduled_time_within_the_grace(runtime: Runtime, clock: ManualClock) -> None:
    trigger = digest_trigger(runtime)
    assert missed_at(trigger, clock.now(), 6 * 3600) == datetime(2026, 11, 23, 13, tzinfo=UTC)
    assert missed_at(trigger, clock.now(), 3600) is None


async def test_a_digest_missed_while_down_is_sent_once_on_start(runtime: Runtime, week: Seeder) -> None:
    register(runtime)
    ran = await catch_up(runtime, JOBS)
    assert ran[DIGEST_JOB] == 3
    assert await digest_rows(runtime.db) > 0


async def test_a_digest_missed_longer_ago_than_the_grace_is_not_sent(
    runtime: Runtime, clock: ManualClock, week: Seeder
) -> None:
    clock.advance(timedelta(hours=5))  # 7 h after it was due; the grace is 6 h
    register(runtime)
    assert DIGEST_JOB not in await catch_up(runtime, JOBS)
    assert await digest_rows(runtime.db) == 0


async def test_the_catch_up_grace_is_a_setting(
    database_url: str, agreement: Agreement, clock: ManualClock, runtime: Runtime, week: Seeder
) -> None:
    clock.advance(timedelta(hours=5))
    patient = replica(database_url, agreement, clock, catch_up_grace=8 * 3600)
    try:
        assert (await catch_up(patient, JOBS))[DIGEST_JOB] == 3
    finally:
        await patient.db.dispose()


async def test_two_replicas_starting_at_once_send_it_once(
    database_url: str, agreement: Agreement, clock: ManualClock, runtime: Runtime, week: Seeder
) -> None:
    register(runtime)
    other = replica(database_url, agreement, clock)
    try:
        first, second = await asyncio.gather(catch_up(runtime, JOBS), catch_up(other, JOBS))
        assert sorted([first[DIGEST_JOB], second[DIGEST_JOB]]) == [0, 3]
        async with runtime.db.transaction() as session:
            claims = (await session.scalars(select(PeriodicRun).where(PeriodicRun.job == "digest"))).all()
        assert len(claims) == 1
    finally:
        await other.db.dispose()


async def test_a_restart_after_the_digest_went_out_sends_nothing(runtime: Runtime, week: Seeder) -> None:
    register(runtime)
    assert await digest_once(runtime) == 3  # the scheduled run, before the restart
    sent = await digest_rows(runtime.db)
    assert (await catch_up(runtime, JOBS))[DIGEST_JOB] == 0
    assert await digest_rows(runtime.db) == sent


async def test_a_restart_when_nothing_fell_due_runs_nothing(runtime: Runtime, clock: ManualClock, week: Seeder) -> None:
    clock.set(datetime(2026, 11, 25, 18, tzinfo=UTC))  # a Wednesday afternoon
    register(runtime)
    assert DIGEST_JOB not in await catch_up(runtime, JOBS)
    assert await digest_rows(runtime.db) == 0


async def test_a_review_reminder_missed_while_down_is_sent_on_start(
    runtime: Runtime, clock: ManualClock, week: Seeder
) -> None:
    clock.set(datetime(2027, 1, 5, 15, tzinfo=UTC))  # 10:00 in New York; the daily check is at 09:00
    register(runtime)
    ran = await catch_up(runtime, JOBS)
    assert ran == {REVIEW_JOB: 2}


async def test_starting_the_runtime_catches_up_the_missed_digest(runtime: Runtime, week: Seeder) -> None:
    await runtime.start()
    try:

        async def digest_claimed() -> None:
            while True:
                async with runtime.db.transaction() as session:
                    if await session.get(PeriodicRun, ("digest", "2026-W47")) is not None:
                        return
                await asyncio.sleep(0.05)

        await asyncio.wait_for(digest_claimed(), timeout=20)
    finally:
        await runtime.stop()
    assert await digest_rows(runtime.db) > 0


def test_the_grace_and_the_check_interval_are_read_from_the_environment() -> None:
    settings = load_settings("baton.toml", {"BATON_CATCH_UP_GRACE": "3600", "BATON_PLATFORM_CHECK_INTERVAL": "10"})
    assert (settings.catch_up_grace, settings.platform_check_interval) == (3600, 10)
    defaults = load_settings("baton.toml", {})
    assert (defaults.catch_up_grace, defaults.platform_check_interval) == (6 * 3600, 30)


def test_a_negative_grace_is_refused_by_its_name() -> None:
    with pytest.raises(ConfigError) as error:
        load_settings("baton.toml", {"BATON_CATCH_UP_GRACE": "-1"})
    assert error.value.problems[0].startswith("BATON_CATCH_UP_GRACE:")
