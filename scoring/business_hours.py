"""Working-time arithmetic in a person's own time zone.

Business-hours SLAs count only the time a rep is at work. The arithmetic is
done one local day at a time: each working day's hours are placed on the wall
clock of that day and only then converted to UTC, so a day after a daylight
saving switch still runs 09:00-18:00 local. All datetimes in and out are
timezone-aware; results are in UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scoring.agreement import WEEKDAYS, Agreement, DateRange, Rep, Team

# More than three years without a single working hour is a configuration mistake,
# not a long weekend; stop instead of looping for ever.
MAX_IDLE_DAYS = 3 * 366


@dataclass(frozen=True)
class WorkCalendar:
    """When someone works: ``start``-``end`` local time on ``days`` (0 = Monday),
    except on ``holidays`` and dates inside any ``away`` range (local dates)."""

    timezone: str
    start: time
    end: time
    days: frozenset[int]
    holidays: frozenset[date] = frozenset()
    away: tuple[DateRange, ...] = ()

    def __post_init__(self) -> None:
        ZoneInfo(self.timezone)  # fail now, not in the middle of a deadline calculation
        if self.end <= self.start:
            raise ValueError(f"working hours end ({self.end}) before they start ({self.start})")
        if not self.days <= frozenset(range(7)):
            raise ValueError(f"working days must be 0 (Monday) to 6 (Sunday), got {sorted(self.days)}")

    @classmethod
    def for_rep(cls, rep: Rep, team: Team, agreement: Agreement) -> WorkCalendar:
        """The rep's hours and days; company and team holidays; the rep's out-of-office dates."""
        return cls(
            timezone=rep.timezone,
            start=rep.working_hours.start,
            end=rep.working_hours.end,
            days=frozenset(WEEKDAYS.index(day) for day in rep.working_days),
            holidays=frozenset(agreement.holidays) | frozenset(team.holidays),
            away=tuple(rep.out_of_office),
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def works_on(self, day: date) -> bool:
        """True when ``day`` (a local date) is a working day for this calendar."""
        return (
            day.weekday() in self.days and day not in self.holidays and not any(day in period for period in self.away)
        )

    def hours_on(self, day: date) -> tuple[datetime, datetime] | None:
        """The working interval of local ``day`` in UTC, or ``None`` on a day off."""
        if not self.works_on(day):
            return None
        zone = self.zone
        # Wall-clock times placed on that very day: zoneinfo applies that day's UTC offset.
        begin = datetime.combine(day, self.start, tzinfo=zone).astimezone(UTC)
        finish = datetime.combine(day, self.end, tzinfo=zone).astimezone(UTC)
        return begin, finish


def is_working(at: datetime, cal: WorkCalendar) -> bool:
    """True when ``at`` falls inside working hours on a working day (start inclusive, end exclusive)."""
    _require_aware(at)
    hours = cal.hours_on(at.astimezone(cal.zone).date())
    return hours is not None and hours[0] <= at < hours[1]


def add_working_time(start: datetime, duration: timedelta, cal: WorkCalendar) -> datetime:
    """The moment ``duration`` of working time has passed after ``start``, in UTC.

    Time outside working hours does not count; a start outside hours begins counting at the
    next working hour. Raises ``ValueError`` for a negative duration or a calendar with no
    working day in three years.
    """
    _require_aware(start)
    if duration < timedelta(0):
        raise ValueError("duration must not be negative")
    cursor = start.astimezone(UTC)
    if duration == timedelta(0):
        return cursor
    remaining = duration
    idle = 0
    for day in _days_from(start.astimezone(cal.zone).date()):
        hours = cal.hours_on(day)
        if hours is not None and max(cursor, hours[0]) < hours[1]:
            idle = 0
            begin = max(cursor, hours[0])
            available = hours[1] - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
            continue
        idle += 1
        if idle > MAX_IDLE_DAYS:
            raise ValueError(f"no working hours in {MAX_IDLE_DAYS} days after {start.isoformat()}")
    raise AssertionError("unreachable")  # pragma: no cover - _days_from never ends


def working_time_between(a: datetime, b: datetime, cal: WorkCalendar) -> timedelta:
    """Working time from ``a`` to ``b``; zero when ``b`` is not after ``a``."""
    _require_aware(a)
    _require_aware(b)
    if b <= a:
        return timedelta(0)
    zone = cal.zone
    last = b.astimezone(zone).date()
    total = timedelta(0)
    for day in _days_from(a.astimezone(zone).date()):
        if day > last:
            break
        hours = cal.hours_on(day)
        if hours is not None:
            overlap = min(b, hours[1]) - max(a, hours[0])
            total += max(overlap, timedelta(0))
    return total


def _days_from(day: date) -> Iterator[date]:
    while True:
        yield day
        day += timedelta(days=1)


def _require_aware(value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{value.isoformat()} has no time zone; pass an aware datetime")
