"""Replay stored leads against two agreements (the running one and a draft) and count the difference.

Pure: leads go in one at a time (``Replay.add``), a ``SimulationReport`` comes out. Both
agreements go through the engine's own ``score`` and ``route``, at the moments intake scored
the lead: when it was created and whenever an activity arrived. The first of those moments at
which a lead is an MQL is when it would have qualified. Routing starts every rep with no open
leads and carries round-robin credit through the replay (live capacity over a past quarter is
not stored), so a rep's load is the number of leads they would have been offered.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from scoring.agreement import Agreement, Stage
from scoring.agreement_diff import Change, diff
from scoring.lead import Activity, LeadData
from scoring.route import RoutingState, route
from scoring.score import ScoreResult, score

WEEKS_PER_QUARTER = 13
SIDES = ("before", "after")


@dataclass(frozen=True)
class StoredLead:
    """One stored lead as the replay needs it: its fields, its activities (with the time each
    arrived) and what really happened to it."""

    id: int
    data: LeadData
    created_at: datetime
    activities: Sequence[tuple[Activity, datetime]] = ()
    qualified_at: datetime | None = None
    accepted_at: datetime | None = None
    sql_at: datetime | None = None
    rejections: Sequence[str] = ()  # reason codes of the period's rejections
    recycled_at: datetime | None = None  # the period's last rejection that sent it back to nurture


@dataclass(frozen=True)
class Verdict:
    """When (if ever) the lead is an MQL under one agreement, and the score that decided it."""

    qualified_at: datetime | None
    result: ScoreResult | None


def first_mql(lead: StoredLead, agreement: Agreement, until: datetime) -> Verdict:
    """Score ``lead`` at each moment intake would have (creation, each arrival) before ``until``;
    the first moment it is an MQL, or its last score."""
    moments = sorted({lead.created_at, *(at for _, at in lead.activities if at >= lead.created_at)})
    result: ScoreResult | None = None
    for moment in moments:
        if moment >= until:
            break
        history = [a for a, at in lead.activities if at <= moment]
        result = score(lead.data, history, agreement, moment)
        if result.stage is Stage.MQL:
            return Verdict(moment, result)
        # Disqualifiers and missing fields depend on the fields alone, which the replay holds
        # fixed: no later moment can qualify the lead.
        if result.disqualifiers or result.missing_fields:
            break
    return Verdict(None, result)


def came_back(lead: StoredLead, agreement: Agreement, until: datetime) -> bool:
    """True when a recycled lead qualifies again at an activity that arrived after it was recycled."""
    if lead.recycled_at is None:
        return False
    recycled = lead.recycled_at
    for moment in sorted({at for _, at in lead.activities if recycled < at < until}):
        history = [a for a, at in lead.activities if at <= moment]
        if score(lead.data, history, agreement, moment).stage is Stage.MQL:
            return True
    return False


@dataclass
class _Side:
    agreement: Agreement
    weeks: Counter[str] = field(default_factory=Counter)
    sources: Counter[str] = field(default_factory=Counter)
    campaigns: Counter[str] = field(default_factory=Counter)
    teams: Counter[str] = field(default_factory=Counter)
    reps: Counter[str] = field(default_factory=Counter)
    rep_weeks: Counter[tuple[str, str]] = field(default_factory=Counter)
    credit: dict[str, int] = field(default_factory=dict)
    total: int = 0


@dataclass
class SimulationReport:
    """The figures ``baton simulate`` shows; ``as_json`` is its ``--json``."""

    period: str
    start: datetime
    end: datetime
    leads: int
    commitment_per_week: float
    weeks: list[str]
    recorded: dict[str, int]
    mqls: dict[str, dict[str, int]]
    totals: dict[str, int]
    sources: dict[str, dict[str, int]]
    campaigns: dict[str, dict[str, int]]
    teams: dict[str, dict[str, int]]
    reps: list[dict[str, Any]]
    rejected_still_sent: dict[str, int]
    rejected_total: dict[str, int]
    accepted_held_back: int
    accepted_total: int
    sql_held_back: int
    sql_total: int
    gained: int
    lost: int
    recycled: dict[str, int]
    changes: list[Change]
    effects: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "leads": self.leads,
            "commitment_per_week": self.commitment_per_week,
            "weeks": [
                {
                    "week": w,
                    "recorded": self.recorded.get(w, 0),
                    "before": self.mqls["before"].get(w, 0),
                    "after": self.mqls["after"].get(w, 0),
                }
                for w in self.weeks
            ],
            "totals": self.totals,
            "sources": self.sources,
            "campaigns": self.campaigns,
            "teams": self.teams,
            "reps": self.reps,
            "rejected": {
                "total": self.rejected_total,
                "still_sent": self.rejected_still_sent,
            },
            "accepted": {"total": self.accepted_total, "held_back": self.accepted_held_back},
            "sql": {"total": self.sql_total, "held_back": self.sql_held_back},
            "gained": self.gained,
            "lost": self.lost,
            "recycled": self.recycled,
            "changes": [c.as_json() for c in self.changes],
            "effects": self.effects,
        }


class Replay:
    """Accumulates the replay of a period ``[start, end)``; weeks are ISO weeks in ``zone``."""

    def __init__(
        self, before: Agreement, after: Agreement, start: datetime, end: datetime, zone: str, label: str
    ) -> None:
        self.start, self.end, self.zone, self.label = start, end, ZoneInfo(zone), label
        self.sides = {"before": _Side(before), "after": _Side(after)}
        self.changes = diff(before, after)
        self.leads = 0
        self.recorded: Counter[str] = Counter()
        self.rejected_total: Counter[str] = Counter()
        self.rejected_still: Counter[str] = Counter()
        self.accepted = [0, 0]  # total, held back
        self.sqls = [0, 0]
        self.gained = self.lost = 0
        self.recycled: Counter[str] = Counter()  # total, and came back: recorded, before, after
        self.effects: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # change index → gained, lost

    def week(self, moment: datetime) -> str:
        iso = moment.astimezone(self.zone).isocalendar()
        return f"{iso.year}-W{iso.week:02d}"

    def _in_period(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end

    def add(self, lead: StoredLead) -> None:
        """Replay one lead under both agreements."""
        self.leads += 1
        if self._in_period(lead.qualified_at):
            assert lead.qualified_at is not None
            self.recorded[self.week(lead.qualified_at)] += 1
        verdicts = {}
        for name, side in self.sides.items():
            verdict = first_mql(lead, side.agreement, self.end)
            verdicts[name] = verdict
            if self._in_period(verdict.qualified_at):
                assert verdict.qualified_at is not None
                self._count(side, lead, verdict.qualified_at)
        after_sends = verdicts["after"].qualified_at is not None
        for reason in lead.rejections:
            self.rejected_total[reason] += 1
            if after_sends:
                self.rejected_still[reason] += 1
        if lead.recycled_at is not None:
            self.recycled["total"] += 1
            self.recycled["came_back_recorded"] += bool(lead.qualified_at and lead.qualified_at > lead.recycled_at)
            for name, side in self.sides.items():
                self.recycled[f"came_back_{name}"] += came_back(lead, side.agreement, self.end)
        if self._in_period(lead.accepted_at):
            self.accepted[0] += 1
            self.accepted[1] += not after_sends
        if self._in_period(lead.sql_at):
            self.sqls[0] += 1
            self.sqls[1] += not after_sends
        was = self._in_period(verdicts["before"].qualified_at)
        now = self._in_period(verdicts["after"].qualified_at)
        if was != now:
            if now:
                self.gained += 1
            else:
                self.lost += 1
            self._attribute(verdicts, gained=now)

    def _count(self, side: _Side, lead: StoredLead, moment: datetime) -> None:
        week = self.week(moment)
        side.total += 1
        side.weeks[week] += 1
        side.sources[lead.data.source or "(none)"] += 1
        side.campaigns[lead.data.campaign or "(none)"] += 1
        decision = route(lead.data, side.agreement, RoutingState(active={}, rr_credit=side.credit), moment)
        side.credit = dict(decision.rr_credit)
        side.teams[decision.team or "(none)"] += 1
        if decision.rep:
            side.reps[decision.rep] += 1
            side.rep_weeks[(decision.rep, week)] += 1

    def _attribute(self, verdicts: dict[str, Verdict], gained: bool) -> None:
        """Credit the flip to every changed rule that shows in either score of the lead."""
        touched: set[str] = set()
        for verdict in verdicts.values():
            if verdict.result is not None:
                touched |= {line.rule for line in verdict.result.lines}
                touched |= set(verdict.result.disqualifiers)
                touched |= set(verdict.result.fast_track_events)
        for index, change in enumerate(self.changes):
            if change.rule is None:
                continue
            if change.rule in ("threshold", "half_life") or change.rule in touched:
                self.effects[index][0 if gained else 1] += 1

    def report(self) -> SimulationReport:
        weeks = sorted(set(self.recorded) | {w for s in self.sides.values() for w in s.weeks} | self._calendar_weeks())
        before, after = self.sides["before"], self.sides["after"]
        reps = []
        for team, rep in after.agreement.reps():
            email = rep.email.lower()
            old = before.agreement.rep(email)
            reps.append(
                {
                    "rep": email,
                    "team": team.name,
                    "capacity": rep.capacity,
                    "before": before.reps.get(email, 0),
                    "after": after.reps.get(email, 0),
                    "busiest_week_before": max((n for (e, _), n in before.rep_weeks.items() if e == email), default=0),
                    "busiest_week_after": max((n for (e, _), n in after.rep_weeks.items() if e == email), default=0),
                    "capacity_before": old[1].capacity if old else None,
                }
            )
        return SimulationReport(
            period=self.label,
            start=self.start,
            end=self.end,
            leads=self.leads,
            commitment_per_week=round(after.agreement.commitment.mqls_per_quarter / WEEKS_PER_QUARTER, 1),
            weeks=weeks,
            recorded=dict(self.recorded),
            mqls={name: dict(side.weeks) for name, side in self.sides.items()},
            totals={"recorded": sum(self.recorded.values()), "before": before.total, "after": after.total},
            sources=_pairs(before.sources, after.sources),
            campaigns=_pairs(before.campaigns, after.campaigns),
            teams=_pairs(before.teams, after.teams),
            reps=reps,
            rejected_still_sent=dict(self.rejected_still),
            rejected_total=dict(self.rejected_total),
            accepted_total=self.accepted[0],
            accepted_held_back=self.accepted[1],
            sql_total=self.sqls[0],
            sql_held_back=self.sqls[1],
            gained=self.gained,
            lost=self.lost,
            recycled={
                key: self.recycled.get(key, 0)
                for key in ("total", "came_back_recorded", "came_back_before", "came_back_after")
            },
            changes=self.changes,
            effects=[
                {"change": index, "gained": self.effects[index][0], "lost": self.effects[index][1]}
                for index, change in enumerate(self.changes)
                if change.rule is not None
            ],
        )

    def _calendar_weeks(self) -> set[str]:
        # Every week of the period is a row, even one in which nothing qualified.
        weeks, moment = set(), self.start
        while moment < self.end:
            weeks.add(self.week(moment))
            moment += timedelta(days=1)
        return weeks


def _pairs(before: Counter[str], after: Counter[str]) -> dict[str, dict[str, int]]:
    keys = sorted(set(before) | set(after), key=lambda k: (-(after.get(k, 0) + before.get(k, 0)), k))
    return {k: {"before": before.get(k, 0), "after": after.get(k, 0)} for k in keys}
