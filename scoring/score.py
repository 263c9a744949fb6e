"""Score and qualify a lead against the agreement, with the breakdown a rep is shown.

Pure: the lead, its activities, the agreement and the current time go in; a
``ScoreResult`` comes out. Unknown activity types are ignored here (the intake
API rejects them before they get this far).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from scoring.agreement import Agreement, EventRule, Stage
from scoring.durations import format_duration
from scoring.lead import Activity, LeadData


@dataclass(frozen=True)
class ScoreLine:
    """One reason the score moved: a fired explicit rule, or one event type's behaviour."""

    rule: str
    kind: Literal["explicit", "implicit"]
    points: int
    # Plain JSON the handlers word (``handlers/text/score.py``): an explicit rule's
    # ``condition``; an event type's ``events``, ``points`` and, when they applied, ``half_life``
    # and ``cap``.
    detail: Mapping[str, Any]


@dataclass(frozen=True)
class ScoreResult:
    """The score, its breakdown and the stage it earns.

    ``total == explicit + implicit == sum(line.points for line in lines)``. ``stage`` is
    DISQUALIFIED if any disqualifier hit, else CAPTURED while required fields are missing,
    else MQL when fast-tracked or ``total >= threshold``, else CAPTURED.
    """

    total: int
    explicit: int
    implicit: int
    lines: tuple[ScoreLine, ...]
    disqualifiers: tuple[str, ...]
    missing_fields: tuple[str, ...]
    fast_track: bool
    fast_track_events: tuple[str, ...]
    stage: Stage
    threshold: int

    @property
    def qualified(self) -> bool:
        return self.stage is Stage.MQL

    @property
    def below_threshold(self) -> bool:
        return not self.fast_track and self.total < self.threshold


def score(lead: LeadData, activities: Sequence[Activity], rules: Agreement, now: datetime) -> ScoreResult:
    """Score ``lead`` with its ``activities`` as of ``now`` (aware datetimes throughout)."""
    qualification = rules.qualification
    explicit = tuple(
        ScoreLine(rule=r.name, kind="explicit", points=r.points, detail={"condition": r.as_json()})
        for r in rules.scoring.explicit
        if r.matches(lead.field(r.field))
    )
    implicit = _implicit_lines(activities, rules, now)
    disqualifiers = tuple(d.reason for d in qualification.disqualifiers if d.matches(lead.field(d.field)))
    missing = tuple(name for name in qualification.required_fields if lead.field(name) is None)

    fast_track_types = rules.scoring.implicit.fast_track
    seen = {a.type for a in activities}
    fired = [t for t in fast_track_types if t in seen]
    events = rules.scoring.implicit.events
    fast_track_events = tuple((events[t].label if t in events else "") or t for t in fired)

    explicit_total = sum(line.points for line in explicit)
    implicit_total = sum(line.points for line in implicit)
    total = explicit_total + implicit_total
    if disqualifiers:
        stage = Stage.DISQUALIFIED
    elif missing:
        stage = Stage.CAPTURED
    elif fired or total >= qualification.threshold:
        stage = Stage.MQL
    else:
        stage = Stage.CAPTURED
    return ScoreResult(
        total=total,
        explicit=explicit_total,
        implicit=implicit_total,
        lines=explicit + implicit,
        disqualifiers=disqualifiers,
        missing_fields=missing,
        fast_track=bool(fired),
        fast_track_events=fast_track_events,
        stage=stage,
        threshold=qualification.threshold,
    )


def _implicit_lines(activities: Sequence[Activity], rules: Agreement, now: datetime) -> tuple[ScoreLine, ...]:
    half_life = rules.scoring.implicit.half_life
    lines = []
    # One pass over the activities (not one per event type): the simulator scores millions.
    by_type: dict[str, list[timedelta]] = {}
    for activity in activities:
        by_type.setdefault(activity.type, []).append(max(now - activity.occurred_at, timedelta(0)))
    for event_type, rule in rules.scoring.implicit.events.items():
        ages = by_type.get(event_type)
        if not ages or rule.points == 0:
            continue
        raw = sum(rule.points * _decay(age, half_life) for age in ages)
        capped = _clip(raw, rule)
        decayed = half_life is not None and any(age > timedelta(0) for age in ages)
        lines.append(
            ScoreLine(
                rule=rule.label or event_type,
                kind="implicit",
                points=_round(capped),
                detail=_detail(len(ages), rule, half_life if decayed else None, capped != raw),
            )
        )
    return tuple(lines)


def _decay(age: timedelta, half_life: timedelta | None) -> float:
    # Interest fades: an event counts half as much each half-life after it happened.
    if half_life is None:
        return 1.0
    return math.pow(0.5, age / half_life)


def _clip(raw: float, rule: EventRule) -> float:
    # The cap bounds the magnitude, so ten careers-page visits cannot sink a lead either.
    if rule.cap is None:
        return raw
    return max(min(raw, rule.cap), -rule.cap)


def _round(value: float) -> int:
    # Half away from zero, so +2.5 and -2.5 round symmetrically (round() would give 2 and -2).
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def _detail(count: int, rule: EventRule, half_life: timedelta | None, capped: bool) -> dict[str, Any]:
    return {
        "events": count,
        "points": rule.points,
        "half_life": format_duration(half_life) if half_life is not None else None,
        "cap": (rule.cap if rule.points > 0 else -rule.cap) if capped and rule.cap is not None else None,
    }
