"""What intake takes: leads and behaviour events as validated input, and each event's identity.

An activity is identified within its lead so that sending it again never adds its points again:
by the client's ``id`` when given, else by its type and time. An activity without a time that
arrives inside a lead (the lead's events so far) is the n-th untimed event of its type, so a
resent lead matches its earlier self; one sent alone to the activities endpoint happened when it
arrived (``now``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from scoring.agreement import Agreement
from scoring.lead import LeadData, one_line

# An event dated later than this past the clock is refused: it would score at full points and
# never decay. Clients' clocks drift; five minutes is the window signed requests allow as well.
MAX_CLOCK_SKEW = timedelta(minutes=5)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
Line = Annotated[str, AfterValidator(one_line)]


def _in_range(value: datetime) -> datetime:
    try:  # 9999-12-31T23:00-05:00 is in year 10000 in UTC: datetime cannot hold it
        at = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range") from None
    if at < EARLIEST:
        raise ValueError("before 1970-01-01")
    return at


class ActivityIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: Line | None = Field(default=None, min_length=1, max_length=128)
    type: Line = Field(min_length=1, max_length=64)
    occurred_at: Annotated[AwareDatetime, AfterValidator(_in_range)] | None = None


class LeadIn(LeadData):
    """A lead as the intake API takes it: the lead's fields plus behaviour events so far."""

    activities: list[ActivityIn] = Field(default_factory=list, max_length=1000)


class InvalidActivities(ValueError):
    """Activities refused after parsing (unknown type, dated in the future), each by its path."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


UnknownEventTypes = InvalidActivities  # the name callers and tests have used


def check_activities(agreement: Agreement, now: datetime, items: Sequence[tuple[str, ActivityIn]]) -> None:
    """``items`` is (path, activity) pairs; raises naming every unknown type and future time."""
    known = agreement.scoring.implicit.event_types
    latest = now + MAX_CLOCK_SKEW
    problems: list[str] = []
    for path, activity in items:
        if activity.type not in known:
            problems.append(f"{path}.type: unknown event type {activity.type!r} (known: {', '.join(sorted(known))})")
        if activity.occurred_at is not None and activity.occurred_at > latest:
            problems.append(
                f"{path}.occurred_at: in the future ({activity.occurred_at.isoformat()}; "
                f"the clock says {now.isoformat(timespec='seconds')}, and "
                f"{int(MAX_CLOCK_SKEW.total_seconds())} s of skew are allowed)"
            )
    if problems:
        raise InvalidActivities(problems)


def activity_keys(activities: Sequence[ActivityIn], now: datetime, snapshot: bool) -> list[str]:
    """The identity of each activity within its lead (``snapshot``: they arrived inside the lead)."""
    keys: list[str] = []
    untimed: dict[str, int] = {}
    for activity in activities:
        if activity.id is not None:
            keys.append(f"id:{activity.id}")
        elif activity.occurred_at is not None or not snapshot:
            at = (activity.occurred_at or now).astimezone(UTC).isoformat(timespec="microseconds")
            keys.append(f"at:{activity.type}@{at}")
        else:
            untimed[activity.type] = n = untimed.get(activity.type, 0) + 1
            keys.append(f"n:{activity.type}#{n}")
    return keys
