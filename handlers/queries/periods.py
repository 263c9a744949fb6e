"""Reporting periods as people say them: "this week", "last quarter", "last 30 days".

Parsing is pure text; resolving turns a period into UTC bounds in a timezone,
because "this week" starts on Monday where the asker is, not in UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from handlers.text import _, n_

PeriodKind = Literal[
    "today", "this_week", "last_week", "this_month", "last_month", "this_quarter", "last_quarter", "last_days"
]
MAX_DAYS = 366
# One regex for "a period phrase somewhere in the text", so the parser can cut it out.
_LAST_DAYS = re.compile(r"last (\S+) days?")
PERIOD_PATTERN = re.compile(
    r"\b(today|(?:this|last|past|previous) (?:week|month|quarter)|(?:last|past) (\d+|[a-z]+) days?)\b"
)
PERIOD_WORDS = {
    "today",
    "yesterday",
    "this",
    "last",
    "past",
    "previous",
    "next",
    "week",
    "weeks",
    "month",
    "months",
    "quarter",
    "quarters",
    "day",
    "days",
    "year",
    "fortnight",
}


class PeriodError(ValueError):
    """A period the parser cannot read; the message says what it can read."""


@dataclass(frozen=True)
class PeriodSpec:
    kind: PeriodKind
    days: int = 0


@dataclass(frozen=True)
class Period:
    """``[start, end)`` in UTC; ``until`` is ``min(end, now)``, the part that has happened."""

    start: datetime
    end: datetime
    until: datetime
    label: str
    zone: str


def parse_period(text: str) -> PeriodSpec:
    """``text`` is one period phrase (lower case); raises ``PeriodError`` naming what is allowed."""
    words = text.strip().lower().replace("previous", "last").replace("past", "last")
    words = re.sub(r"\s+", " ", words)
    if words == "today":
        return PeriodSpec("today")
    match = re.fullmatch(r"(this|last) (week|month|quarter)", words)
    if match:
        return PeriodSpec(f"{match.group(1)}_{match.group(2)}")  # type: ignore[arg-type]
    match = _LAST_DAYS.fullmatch(words)
    if match:
        if not match.group(1).isdigit():
            raise PeriodError(_("period.needs_days", text=text))
        days = int(match.group(1))
        if not 1 <= days <= MAX_DAYS:
            raise PeriodError(_("period.days_out_of_range", text=text, most=MAX_DAYS))
        return PeriodSpec("last_days", days)
    raise PeriodError(_("help.unknown_period", text=text, periods=_("help.period_names")))


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_key(day: date) -> str:
    year, quarter = quarter_of(day)
    return f"{year}-Q{quarter}"


def _quarter_start(year: int, quarter: int) -> date:
    return date(year, 3 * (quarter - 1) + 1, 1)


def _next_quarter(year: int, quarter: int) -> tuple[int, int]:
    return (year + 1, 1) if quarter == 4 else (year, quarter + 1)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def _bounds(spec: PeriodSpec, today: date) -> tuple[date, date, str]:
    """Local calendar days ``[first, after)`` and a label."""
    if spec.kind == "today":
        return today, today + timedelta(days=1), _("period.today")
    if spec.kind in ("this_week", "last_week"):
        monday = today - timedelta(days=today.weekday())
        if spec.kind == "last_week":
            monday -= timedelta(days=7)
        iso = monday.isocalendar()
        label = (
            _("period.this_week", week=iso.week) if spec.kind == "this_week" else _("period.last_week", week=iso.week)
        )
        return monday, monday + timedelta(days=7), label
    if spec.kind in ("this_month", "last_month"):
        first = _month_start(today)
        if spec.kind == "last_month":
            first = _month_start(first - timedelta(days=1))
        return first, _next_month(first), first.strftime("%B %Y")
    year, quarter = quarter_of(today)
    if spec.kind == "last_quarter":
        year, quarter = (year - 1, 4) if quarter == 1 else (year, quarter - 1)
    first = _quarter_start(year, quarter)
    return first, _quarter_start(*_next_quarter(year, quarter)), _("period.quarter", quarter=quarter, year=year)


def resolve(spec: PeriodSpec, now: datetime, zone: str) -> Period:
    """The period ``spec`` as of ``now`` (aware) in timezone ``zone``."""
    tz = ZoneInfo(zone)
    if spec.kind == "last_days":
        start = now - timedelta(days=spec.days)
        return Period(start, now, now, n_("period.last_days", spec.days), zone)
    first, after, label = _bounds(spec, now.astimezone(tz).date())
    start = datetime.combine(first, time(0), tz).astimezone(now.tzinfo)
    end = datetime.combine(after, time(0), tz).astimezone(now.tzinfo)
    return Period(start, end, min(end, now), label, zone)


def local_week(now: datetime, zone: str, weeks_back: int = 0) -> tuple[datetime, datetime, str]:
    """Monday-to-Monday bounds (UTC) of the week ``weeks_back`` before the current one, and its
    ISO key like ``2026-W47``."""
    today = now.astimezone(ZoneInfo(zone)).date()
    monday = today - timedelta(days=today.weekday() + 7 * weeks_back)
    iso = monday.isocalendar()
    tz = ZoneInfo(zone)
    start = datetime.combine(monday, time(0), tz).astimezone(now.tzinfo)
    end = datetime.combine(monday + timedelta(days=7), time(0), tz).astimezone(now.tzinfo)
    return start, end, f"{iso.year}-W{iso.week:02d}"


def quarter_period(now: datetime, zone: str) -> Period:
    return resolve(PeriodSpec("this_quarter"), now, zone)


def span_text(period: Period) -> str:
    """``16 Nov – 22 Nov 2026`` in the period's zone (the last day shown is inclusive)."""
    tz = ZoneInfo(period.zone)
    first = period.start.astimezone(tz)
    last = (period.until - timedelta(microseconds=1)).astimezone(tz)
    if period.until <= period.start:
        last = first
    return f"{first:%-d %b} – {last:%-d %b %Y}"
