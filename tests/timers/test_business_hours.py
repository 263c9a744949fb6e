"""Business-hours SLAs count only the rep's working time: weekends, holidays and DST included."""

from __future__ import annotations

from datetime import datetime

import pytest

from handlers.clock import ManualClock
from handlers.followup.timers import sweep
from handlers.services import Services
from scoring.agreement_check import load_agreement
from store.db import Database
from store.models import Handoff, Timer
from tests.factories import agreement_data
from tests.timers.conftest import ny, offer, rows


@pytest.fixture
def late_alice(db: Database, clock: ManualClock) -> Services:
    """Alice works 09:00-18:00 New York time, so a lead at 17:55 has five minutes left that day."""
    data = agreement_data()
    data["teams"][0]["reps"][0]["working_hours"] = "09:00-18:00"
    return Services(db=db, agreement=load_agreement(data), clock=clock)


@pytest.mark.parametrize(
    ("offered", "escalation", "case"),
    [
        (ny(27, "17:55"), ny(30, "09:25"), "Friday evening to Monday morning"),
        (ny(30, "17:55", month=10), ny(2, "09:25"), "across the end of daylight saving time"),
        (ny(24, "17:55", month=12), ny(28, "09:25", month=12), "over Christmas and a weekend"),
    ],
)
async def test_a_30_minute_step_counts_only_working_time(
    late_alice: Services, clock: ManualClock, offered: datetime, escalation: datetime, case: str
) -> None:
    clock.set(offered)
    await offer(late_alice)
    (handoff,) = await rows(late_alice, Handoff)
    assert handoff.rep == "alice@example.com"
    assert handoff.due_at == escalation, case


async def test_the_next_step_is_counted_from_the_offer_not_from_the_late_nudge(
    late_alice: Services, clock: ManualClock
) -> None:
    clock.set(ny(27, "17:55"))
    await offer(late_alice)
    (nudge,) = await rows(late_alice, Timer)
    assert nudge.due_at == ny(30, "09:10")
    clock.set(ny(30, "09:12"))
    await sweep(late_alice)
    pending = await rows(late_alice, Timer, Timer.status == "pending")
    assert [t.due_at for t in pending] == [ny(30, "09:25")]


async def test_nothing_fires_over_the_weekend(late_alice: Services, clock: ManualClock) -> None:
    clock.set(ny(27, "17:55"))
    await offer(late_alice)
    clock.set(ny(30, "09:09"))
    assert await sweep(late_alice) == 0
