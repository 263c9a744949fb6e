"""The quarterly review reminder: due after ``review_every_months``, once per quarter, with the reasons."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from handlers.clock import ManualClock
from handlers.digest.review import add_months, run_review_reminder
from handlers.services import Services
from scoring.agreement import Agreement
from store.models import OutboxMessage
from tests.factories import make_agreement
from tests.queries.conftest import Seeder

REVIEWERS = ["morgan.manager@example.com", "mark.marketer@example.com"]


@pytest.fixture
def agreement() -> Agreement:
    return make_agreement(
        definition={
            "version": "2026.4",
            "last_changed": date(2026, 10, 1),
            "review_every_months": 3,
            "reviewers": REVIEWERS,
        }
    )


def test_add_months_clamps_to_the_month_end() -> None:
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2026, 10, 1), 3) == date(2027, 1, 1)


async def test_not_due_before_the_review_date(services: Services) -> None:
    assert await run_review_reminder(services) == []


async def test_due_review_reminds_each_reviewer_once_per_quarter(
    services: Services, clock: ManualClock, week: Seeder
) -> None:
    clock.set(datetime(2027, 1, 5, 15, tzinfo=UTC))
    first = await run_review_reminder(services)
    second = await run_review_reminder(services)
    assert [m.to_person for m in first] == REVIEWERS and second == []
    notice = first[0].notice
    assert "The review fell due on 1 Jan 2027." in notice.lines[0]
    assert "reps rejected 2 leads" in notice.lines[1]
    assert notice.tables[0].rows == [["No budget", "1"], ["No fit (size, title, geography)", "1"]]
    async with services.db.transaction() as session:
        rows = (await session.scalars(select(OutboxMessage))).all()
    assert len(rows) == 2


async def test_next_quarter_reminds_again(services: Services, clock: ManualClock) -> None:
    clock.set(datetime(2027, 1, 5, 15, tzinfo=UTC))
    assert len(await run_review_reminder(services)) == 2
    clock.set(datetime(2027, 4, 5, 15, tzinfo=UTC))
    assert len(await run_review_reminder(services)) == 2
