"""Helpers for the pure scoring tests: local times, calendars, routing state."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from scoring.agreement import DateRange
from scoring.business_hours import WorkCalendar
from scoring.route import RoutingState

NEW_YORK = "America/New_York"
BERLIN = "Europe/Berlin"
WEEKDAYS = frozenset(range(5))


def local(tz: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware datetime on the wall clock of ``tz``."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(tz))


def calendar(
    tz: str = NEW_YORK,
    hours: tuple[str, str] = ("09:00", "18:00"),
    days: frozenset[int] = WEEKDAYS,
    holidays: tuple[date, ...] = (),
    away: tuple[tuple[date, date], ...] = (),
) -> WorkCalendar:
    return WorkCalendar(
        timezone=tz,
        start=time.fromisoformat(hours[0]),
        end=time.fromisoformat(hours[1]),
        days=days,
        holidays=frozenset(holidays),
        away=tuple(DateRange.model_validate({"from": a, "to": b}) for a, b in away),
    )


def routing_state(
    active: Mapping[str, int] | None = None,
    credit: Mapping[str, int] | None = None,
    ooo: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
) -> RoutingState:
    return RoutingState(
        active=dict(active or {}),
        rr_credit=dict(credit or {}),
        out_of_office=frozenset(ooo),
        exclude=frozenset(exclude),
    )


def team_data(data: dict[str, Any], name: str) -> dict[str, Any]:
    """The raw ``[[teams]]`` entry called ``name`` in agreement data, for editing in place."""
    return next(t for t in data["teams"] if t["name"] == name)
