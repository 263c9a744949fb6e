"""Working-time arithmetic: weekends, holidays, time off, daylight saving, time zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from scoring.agreement_check import load_agreement
from scoring.business_hours import WorkCalendar, add_working_time, is_working, working_time_between
from tests.factories import agreement_data
from tests.scoring.conftest import BERLIN, NEW_YORK, calendar, local, team_data

EVERY_DAY = frozenset(range(7))
THIRTY = timedelta(minutes=30)


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_friday_just_before_close_is_due_monday_morning() -> None:
    due = add_working_time(local(NEW_YORK, 2026, 11, 20, 17, 55), THIRTY, calendar())
    assert due == local(NEW_YORK, 2026, 11, 23, 9, 25)


def test_result_is_in_utc() -> None:
    due = add_working_time(local(NEW_YORK, 2026, 11, 23, 10), THIRTY, calendar())
    assert due.tzinfo is UTC
    assert due == datetime(2026, 11, 23, 15, 30, tzinfo=UTC)


def test_start_before_opening_counts_from_opening() -> None:
    due = add_working_time(local(NEW_YORK, 2026, 11, 23, 7), THIRTY, calendar())
    assert due == local(NEW_YORK, 2026, 11, 23, 9, 30)


def test_duration_ending_at_close_is_due_at_close() -> None:
    due = add_working_time(local(NEW_YORK, 2026, 11, 23, 17, 30), THIRTY, calendar())
    assert due == local(NEW_YORK, 2026, 11, 23, 18)


def test_long_duration_spans_several_working_days() -> None:
    due = add_working_time(local(NEW_YORK, 2026, 11, 23, 9), timedelta(hours=20), calendar())
    assert due == local(NEW_YORK, 2026, 11, 25, 11)  # 9h Monday, 9h Tuesday, 2h Wednesday


def test_zero_duration_returns_the_start() -> None:
    start = local(NEW_YORK, 2026, 11, 21, 12)  # a Saturday
    assert add_working_time(start, timedelta(0), calendar()) == start


def test_negative_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_working_time(local(NEW_YORK, 2026, 11, 23, 10), -THIRTY, calendar())


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        add_working_time(datetime(2026, 11, 23, 10), THIRTY, calendar())


def test_holidays_are_skipped() -> None:
    cal = calendar(holidays=(date(2026, 12, 25),))
    due = add_working_time(local(NEW_YORK, 2026, 12, 24, 17, 55), THIRTY, cal)
    assert due == local(NEW_YORK, 2026, 12, 28, 9, 25)


def test_rep_away_dates_are_skipped() -> None:
    cal = calendar(away=((date(2026, 11, 23), date(2026, 11, 24)),))
    due = add_working_time(local(NEW_YORK, 2026, 11, 20, 17, 55), THIRTY, cal)
    assert due == local(NEW_YORK, 2026, 11, 25, 9, 25)


def test_calendar_for_rep_combines_agreement_and_team_holidays_and_time_off() -> None:
    data = agreement_data()
    team_data(data, "enterprise")["holidays"] = [date(2026, 11, 26)]
    team_data(data, "enterprise")["reps"][0]["out_of_office"] = [{"from": date(2026, 8, 3), "to": date(2026, 8, 7)}]
    agreement = load_agreement(data)
    found = agreement.rep("alice@example.com")
    assert found is not None
    team, rep = found
    cal = WorkCalendar.for_rep(rep, team, agreement)
    assert (cal.timezone, cal.start, cal.end, cal.days) == (NEW_YORK, time(9), time(17, 30), frozenset(range(5)))
    assert cal.holidays == {date(2026, 12, 25), date(2027, 1, 1), date(2026, 11, 26)}
    assert not cal.works_on(date(2026, 8, 5))


def test_no_working_day_for_years_raises_instead_of_looping() -> None:
    cal = calendar(away=((date(2026, 1, 1), date(2030, 1, 1)),))
    with pytest.raises(ValueError, match="no working hours"):
        add_working_time(local(NEW_YORK, 2026, 1, 1, 9), THIRTY, cal)


def test_hours_that_end_before_they_start_are_refused() -> None:
    with pytest.raises(ValueError, match="end"):
        calendar(hours=("18:00", "09:00"))


@pytest.mark.parametrize(
    ("start", "due", "utc_due"),
    [
        # New York springs forward on Sunday 8 March 2026: Monday opens at 13:00 UTC, not 14:00.
        (local(NEW_YORK, 2026, 3, 6, 17, 55), local(NEW_YORK, 2026, 3, 9, 9, 25), utc(2026, 3, 9, 13, 25)),
        # ...and falls back on Sunday 1 November 2026: Monday opens at 14:00 UTC, not 13:00.
        (local(NEW_YORK, 2026, 10, 30, 17, 55), local(NEW_YORK, 2026, 11, 2, 9, 25), utc(2026, 11, 2, 14, 25)),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_new_york_dst_weekend_keeps_monday_wall_clock_hours(start: datetime, due: datetime, utc_due: datetime) -> None:
    result = add_working_time(start, THIRTY, calendar(NEW_YORK))
    assert result == due == utc_due


@pytest.mark.parametrize(
    ("start", "due", "utc_due"),
    [
        (local(BERLIN, 2026, 3, 27, 17, 55), local(BERLIN, 2026, 3, 30, 9, 25), utc(2026, 3, 30, 7, 25)),
        (local(BERLIN, 2026, 10, 23, 17, 55), local(BERLIN, 2026, 10, 26, 9, 25), utc(2026, 10, 26, 8, 25)),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_berlin_dst_weekend_keeps_monday_wall_clock_hours(start: datetime, due: datetime, utc_due: datetime) -> None:
    result = add_working_time(start, THIRTY, calendar(BERLIN))
    assert result == due == utc_due


def test_seven_day_calendar_counts_across_the_dst_switch() -> None:
    cal = calendar(NEW_YORK, days=EVERY_DAY)
    due = add_working_time(local(NEW_YORK, 2026, 3, 7, 17), timedelta(hours=2), cal)
    assert due == local(NEW_YORK, 2026, 3, 8, 10)  # 1h Saturday (EST) + 1h Sunday (EDT)


@pytest.mark.parametrize(
    ("day", "hours"), [(date(2026, 3, 8), 5), (date(2026, 11, 1), 7)], ids=["spring-forward", "fall-back"]
)
def test_switch_inside_working_hours_changes_real_working_time(day: date, hours: int) -> None:
    cal = calendar(NEW_YORK, hours=("00:00", "06:00"), days=EVERY_DAY)
    start = datetime.combine(day, time(0), tzinfo=local(NEW_YORK, 2026, 1, 1).tzinfo)
    assert working_time_between(start, start + timedelta(days=1), cal) == timedelta(hours=hours)


def test_start_in_another_time_zone_uses_the_calendar_zone() -> None:
    # Tuesday 01:55 in Tokyo is Monday 17:55 in Berlin, five minutes before close.
    due = add_working_time(local("Asia/Tokyo", 2026, 11, 24, 1, 55), THIRTY, calendar(BERLIN))
    assert due == local(BERLIN, 2026, 11, 24, 9, 25) == datetime(2026, 11, 24, 8, 25, tzinfo=UTC)


def test_the_same_instant_is_working_time_in_one_zone_and_not_another() -> None:
    instant = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)  # 14:00 New York, 20:00 Berlin
    assert is_working(instant, calendar(NEW_YORK))
    assert not is_working(instant, calendar(BERLIN))


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (local(NEW_YORK, 2026, 11, 23, 9), True),
        (local(NEW_YORK, 2026, 11, 23, 17, 59), True),
        (local(NEW_YORK, 2026, 11, 23, 18), False),
        (local(NEW_YORK, 2026, 11, 23, 8, 59), False),
        (local(NEW_YORK, 2026, 11, 21, 12), False),
    ],
    ids=["opening", "last-minute", "closing", "before-opening", "saturday"],
)
def test_is_working_includes_opening_and_excludes_closing(at: datetime, expected: bool) -> None:
    assert is_working(at, calendar()) is expected


def test_is_working_is_false_on_a_holiday() -> None:
    assert not is_working(local(NEW_YORK, 2026, 12, 25, 11), calendar(holidays=(date(2026, 12, 25),)))


def test_working_time_between_skips_the_weekend() -> None:
    friday, monday = local(NEW_YORK, 2026, 11, 20, 17), local(NEW_YORK, 2026, 11, 23, 10)
    assert working_time_between(friday, monday, calendar()) == timedelta(hours=2)


def test_working_time_between_skips_holidays() -> None:
    cal = calendar(holidays=(date(2026, 11, 24),))
    start, end = local(NEW_YORK, 2026, 11, 23, 9), local(NEW_YORK, 2026, 11, 25, 9)
    assert working_time_between(start, end, cal) == timedelta(hours=9)


def test_working_time_between_is_zero_when_end_is_not_after_start() -> None:
    a, b = local(NEW_YORK, 2026, 11, 23, 10), local(NEW_YORK, 2026, 11, 23, 12)
    assert working_time_between(b, a, calendar()) == timedelta(0)


def test_working_time_between_inverts_add_working_time() -> None:
    start = local(BERLIN, 2026, 3, 26, 16, 10)
    due = add_working_time(start, timedelta(hours=13, minutes=7), calendar(BERLIN))
    assert working_time_between(start, due, calendar(BERLIN)) == timedelta(hours=13, minutes=7)
