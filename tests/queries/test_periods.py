"""Periods resolve to UTC bounds in the asker's timezone; weeks start on Monday."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from handlers.queries.periods import PeriodSpec, local_week, resolve

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday, 10:00 in New York, 16:00 in Berlin


def utc(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@pytest.mark.parametrize(
    ("spec", "start", "end"),
    [
        (PeriodSpec("today"), utc(2026, 11, 23, 5), utc(2026, 11, 24, 5)),
        (PeriodSpec("this_week"), utc(2026, 11, 23, 5), utc(2026, 11, 30, 5)),
        (PeriodSpec("last_week"), utc(2026, 11, 16, 5), utc(2026, 11, 23, 5)),
        # 1 November 2026 00:00 is still daylight time in New York (UTC-4).
        (PeriodSpec("this_month"), utc(2026, 11, 1, 4), utc(2026, 12, 1, 5)),
        (PeriodSpec("last_month"), utc(2026, 10, 1, 4), utc(2026, 11, 1, 4)),
        (PeriodSpec("this_quarter"), utc(2026, 10, 1, 4), utc(2027, 1, 1, 5)),
        (PeriodSpec("last_quarter"), utc(2026, 7, 1, 4), utc(2026, 10, 1, 4)),
        (PeriodSpec("last_days", 30), NOW - timedelta(days=30), NOW),
    ],
)
def test_new_york_bounds(spec: PeriodSpec, start: datetime, end: datetime) -> None:
    period = resolve(spec, NOW, "America/New_York")
    assert (period.start, period.end) == (start, end)
    assert period.until == min(end, NOW)


def test_the_week_starts_on_monday_in_the_askers_zone() -> None:
    # Berlin's Monday began at 23:00 UTC on Sunday.
    assert resolve(PeriodSpec("this_week"), NOW, "Europe/Berlin").start == utc(2026, 11, 22, 23)


def test_previous_week_key_is_iso() -> None:
    start, end, key = local_week(NOW, "America/New_York", weeks_back=1)
    assert (start, end, key) == (utc(2026, 11, 16, 5), utc(2026, 11, 23, 5), "2026-W47")
