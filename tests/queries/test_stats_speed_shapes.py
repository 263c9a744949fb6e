"""The two ways ``offers()`` is computed (SQL GROUP BY on PostgreSQL, rows read and counted in Python
on SQLite) and the Python percentiles give the same figures, on whichever backend the suite runs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from handlers.queries.figures import (
    Offers,
    RepRow,
    gather,
    grouped_offers,
    handoff_scope,
    offered_between,
    read_offers,
)
from handlers.queries.periods import PeriodSpec, resolve
from handlers.queries.roles import everyone, team_scope
from handlers.queries.sqltime import interpolate, percentiles, seconds_between
from handlers.services import Services
from store.models import Handoff, HandoffState
from tests.queries.conftest import DAY, MIN, T0, Seeder, SeedFn, build_week

ALICE, BOB = "alice@example.com", "bob@example.com"


def test_interpolate_is_percentile_cont() -> None:
    assert interpolate([], [0.5, 0.9]) == [None, None]
    assert interpolate([7.0], [0.5, 0.9]) == [7.0, 7.0]
    # Positions 1.5 and 2.7 of 0..3.
    assert interpolate([600.0, 1200.0, 1800.0, 2400.0], [0.5, 0.9]) == [1500.0, pytest.approx(2220.0)]
    assert interpolate([1.0, 1.0, 1.0, 5.0, 9.0], [0.0, 0.5, 1.0]) == [1.0, 1.0, 9.0]


async def build_with_channel_offers(s: Seeder) -> None:
    await build_week(s)
    t5 = T0 + 5 * DAY
    # A channel offer Bob took (no rep until taken: the taker is ``decided_by``), late.
    await s.lead("C1", qualified_at=t5, accepted_at=t5 + 45 * MIN, owner=BOB, stage="sal")
    taken = await s.handoff(
        "C1", rep=None, state="accepted", offered_at=t5, decided_at=t5 + 45 * MIN, due_at=t5 + 30 * MIN, mode="channel"
    )
    taken.decided_by = BOB
    # A channel offer nobody has taken: only in the totals.
    await s.lead("C2", qualified_at=t5)
    await s.handoff("C2", rep=None, state="offered", offered_at=t5, due_at=t5 + 30 * MIN, mode="channel")
    # Reassigned away from Alice.
    await s.lead("C3", qualified_at=t5)
    await s.handoff("C3", rep=ALICE, state="reassigned", offered_at=t5, decided_at=t5 + 31 * MIN, due_at=t5 + 30 * MIN)
    await s.session.flush()


def rows(offers: Offers) -> dict[str, RepRow]:
    return {email: RepRow(**{**vars(row), "avg_accept_seconds": None}) for email, row in offers.reps.items()}


@pytest.mark.parametrize("team", [None, "enterprise", "emea"])
async def test_read_offers_equal_grouped_offers(services: Services, seed: SeedFn, team: str | None) -> None:
    await seed(build_with_channel_offers)
    period = resolve(PeriodSpec("this_quarter"), services.clock.now(), "America/New_York")
    found = services.agreement.team(team) if team else None
    scope = team_scope(services.agreement, [found], found.name) if found else everyone(services.agreement)
    async with services.db.transaction() as session:
        grouped = await grouped_offers(session, scope, period.start, period.end)
        read = await read_offers(session, scope, period.start, period.end)
        wait = seconds_between(
            session.bind.dialect.name if session.bind else "sqlite", Handoff.offered_at, Handoff.decided_at
        )
        expected = await percentiles(
            session,
            wait,
            [*offered_between(period.start, period.end), Handoff.state == HandoffState.ACCEPTED, *handoff_scope(scope)],
            [0.5, 0.9],
        )
    assert read.by_state == grouped.by_state and read.on_time == grouped.on_time
    assert rows(read) == rows(grouped)
    for email, row in grouped.reps.items():
        assert read.reps[email].avg_accept_seconds == pytest.approx(row.avg_accept_seconds)
    assert read.waits is not None and read.waits == sorted(read.waits)
    assert interpolate(read.waits, [0.5, 0.9]) == pytest.approx(expected)


async def test_channel_offers_count_for_the_taker(services: Services, seed: SeedFn) -> None:
    await seed(build_with_channel_offers)
    period = resolve(PeriodSpec("this_quarter"), services.clock.now(), "America/New_York")
    async with services.db.transaction() as session:
        f = await gather(session, everyone(services.agreement), period.start, period.end, period.until)
    assert (f.offers, f.accepted, f.rejected, f.open, f.on_time) == (10, 5, 2, 2, 3)
    assert f.by_state[HandoffState.REASSIGNED] == 1
    by_rep = {r.rep: r for r in f.reps}
    bob = by_rep[BOB]
    assert (bob.offers, bob.accepted, bob.rejected, bob.on_time) == (3, 2, 1, 1)
    assert round(bob.avg_accept_seconds or 0) == (20 * 60 + 45 * 60) // 2
    assert (by_rep[ALICE].offers, by_rep[ALICE].accepted) == (4, 3)
    assert sum(r.offers for r in f.reps) == f.offers - 1  # the untaken channel offer has no rep
    # Accept waits 600, 1200, 1800, 2400, 2700 s: median 1800, p90 at position 3.6 = 2400 + 0.6 * 300.
    assert round(f.accept_p50 or 0) == 1800 and round(f.accept_p90 or 0) == 2580


async def test_no_offers_no_percentiles(services: Services) -> None:
    start = datetime(2026, 10, 1, 4, tzinfo=UTC)
    async with services.db.transaction() as session:
        f = await gather(session, everyone(services.agreement), start, start + DAY, start + DAY)
    assert (f.offers, f.mqls, f.accept_p50, f.accept_p90, f.touch_p50, f.touch_p90) == (0, 0, None, None, None, None)
    assert f.reps and all(r.offers == 0 and r.avg_accept_seconds is None for r in f.reps)
