"""Sweeps fire due timers in batches: many steps per transaction, and one broken step holds up nothing."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from bot.settings import ConfigError, load_settings
from handlers.clock import ManualClock
from handlers.followup import timers
from handlers.followup.timers import BATCH, PG_WORKERS, RETRY_AFTER, sweep
from handlers.services import Services
from store.models import OutboxMessage, Timer, TimerStatus
from tests.commits import commits_that
from tests.factories import EXAMPLE_CONFIG
from tests.timers.conftest import offer, rows

CATCH_UP = BATCH + 20  # more than one batch


async def offer_many(services: Services, count: int) -> list[int]:
    return [
        (await offer(services, external_id=f"batch-{i}", email=f"batch{i}@prospect.example")).lead_id
        for i in range(count)
    ]


async def test_a_sweep_fires_more_than_a_batch_each_step_once_and_each_card_refreshed_once(
    services: Services, clock: ManualClock
) -> None:
    leads = await offer_many(services, CATCH_UP)
    clock.advance(timedelta(minutes=15))
    assert await sweep(services) == CATCH_UP
    fired = await rows(services, Timer, Timer.status == TimerStatus.FIRED)
    assert sorted(t.lead_id for t in fired) == sorted(leads)
    nudges = await rows(services, OutboxMessage, OutboxMessage.kind == "post", OutboxMessage.dedupe_key.is_not(None))
    assert len(nudges) == CATCH_UP
    updates = Counter(m.message_key for m in await rows(services, OutboxMessage, OutboxMessage.kind == "update"))
    assert len(updates) == CATCH_UP and set(updates.values()) == {1}
    # Each refreshed card already carries the reminder written in the same batch.
    some_update = (await rows(services, OutboxMessage, OutboxMessage.kind == "update"))[0]
    assert any(note.startswith("Reminder sent") for note in some_update.payload["view"]["notes"])
    pending = await rows(services, Timer, Timer.status == TimerStatus.PENDING)
    assert sorted(t.lead_id for t in pending) == sorted(leads) and {t.step for t in pending} == {1}


async def test_a_step_that_fails_is_set_aside_and_the_others_in_its_batch_still_fire(
    services: Services, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    leads = await offer_many(services, 5)
    broken = leads[2]
    real_nudge = timers.nudge

    async def nudge(session: Any, services: Services, lead: Any, *args: Any) -> None:
        if lead.id == broken:
            raise RuntimeError("Slack id missing from a hand-edited row")
        await real_nudge(session, services, lead, *args)

    monkeypatch.setattr(timers, "nudge", nudge)
    clock.advance(timedelta(minutes=15))
    assert await sweep(services) == 4
    fired = await rows(services, Timer, Timer.status == TimerStatus.FIRED)
    assert sorted(t.lead_id for t in fired) == sorted(set(leads) - {broken})
    # The rolled-back batch left nothing behind: one reminder each, none for the broken lead.
    nudges = await rows(services, OutboxMessage, OutboxMessage.kind == "post", OutboxMessage.dedupe_key.is_not(None))
    assert len(nudges) == 4
    (waiting,) = await rows(services, Timer, Timer.lead_id == broken, Timer.status == TimerStatus.PENDING)
    assert waiting.step == 0 and waiting.due_at == clock.now() + RETRY_AFTER


async def test_a_batch_of_one_gives_every_firing_a_transaction_of_its_own(
    services: Services, clock: ManualClock
) -> None:
    await offer_many(services, 5)
    clock.advance(timedelta(minutes=15))
    with commits_that(services.db, "UPDATE timers") as firing:
        await sweep(services, batch=1)
    assert len(firing) == 5
    assert len(await rows(services, Timer, Timer.status == TimerStatus.FIRED)) == 5


async def test_by_default_the_firings_share_transactions(services: Services, clock: ManualClock) -> None:
    await offer_many(services, 5)
    clock.advance(timedelta(minutes=15))
    # The first look fires one alone (so an idle sweep stays cheap); the rest share one transaction
    # on SQLite, or at most one per worker on PostgreSQL.
    with commits_that(services.db, "UPDATE timers") as firing:
        await sweep(services)
    assert len(firing) <= (1 + PG_WORKERS if services.db.is_postgres else 2)
    assert len(await rows(services, Timer, Timer.status == TimerStatus.FIRED)) == 5


def test_the_batch_size_comes_from_the_environment_and_is_checked() -> None:
    assert load_settings(EXAMPLE_CONFIG, {"BATON_TIMER_BATCH": "1"}).timer_batch == 1
    with pytest.raises(ConfigError) as error:
        load_settings(EXAMPLE_CONFIG, {"BATON_TIMER_BATCH": "0"})
    assert any(p.startswith("BATON_TIMER_BATCH:") for p in error.value.problems)
