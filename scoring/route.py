"""Decide who receives a qualified lead, and say why at every step.

Order: the account owner of the lead's email domain; else the first routing
rule whose conditions all match; else the default team. A direct team picks a
rep by smooth weighted round-robin (nginx's algorithm) among the reps who can
take the lead, preferring those in working hours. Pure and deterministic: the
caller passes the live counts and round-robin credit in and persists the
credit that comes back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal
from zoneinfo import ZoneInfo

from scoring.agreement import Agreement, Rep, Team
from scoring.business_hours import WorkCalendar, is_working
from scoring.conditions import Condition
from scoring.lead import LeadData
from scoring.reach import Unreachable


class Step(StrEnum):
    """One step of a routing decision; the handlers word it (``handlers/text/routing.py``).

    The values each step carries are plain JSON (the trace is stored on the lead)."""

    OWNER = "owner"  # domain, rep, team
    OWNER_UNAVAILABLE = "owner_unavailable"  # domain, rep, why
    RULE_MISSED = "rule_missed"  # rule, misses: [{condition, miss}]
    RULE_TEAM_MISSING = "rule_team_missing"  # rule, team
    RULE_MATCHED = "rule_matched"  # rule, conditions: [condition], team
    DEFAULT_TEAM = "default_team"  # team
    CHANNEL_TEAM = "channel_team"  # team
    NOBODY_TO_CHANNEL = "nobody_to_channel"  # team
    NOBODY_UNASSIGNED = "nobody_unassigned"  # team
    SKIPPED = "skipped"  # rep, why
    NOBODY_IN_HOURS = "nobody_in_hours"
    ROUND_ROBIN = "round_robin"  # candidates: [email], weights: [int], chosen
    # Written by the handoff use cases, not by ``route``:
    ALL_HAD_LEAD = "all_had_lead"  # where
    REASSIGNED_BY = "reassigned_by"  # manager, rep, source


@dataclass(frozen=True)
class TraceStep:
    step: Step
    values: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"step": self.step.value, **self.values}


class Why(StrEnum):
    """Why a rep cannot take a lead right now."""

    HAD_LEAD = "had_lead"
    UNREACHABLE = "unreachable"  # + unreachable: Unreachable.as_json()
    OUT_OF_OFFICE = "out_of_office"
    AT_CAPACITY = "at_capacity"  # + active, capacity
    OUT_OF_HOURS = "out_of_hours"


@dataclass(frozen=True)
class Unavailable:
    why: Why
    values: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"why": self.why.value, **self.values}


class MatchedBy(StrEnum):
    ACCOUNT_OWNER = "account_owner"  # name: the domain
    RULE = "rule"  # name: the rule
    DEFAULT_TEAM = "default_team"
    # Set by the handoff use cases:
    NOBODY_LEFT = "nobody_left"  # every eligible rep already had the lead
    MANAGER = "manager"  # name: the manager who reassigned it


@dataclass(frozen=True)
class Matched:
    by: MatchedBy
    name: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"by": self.by.value, "name": self.name}


@dataclass(frozen=True)
class RoutingState:
    """Live facts routing depends on; emails are lowercase."""

    active: Mapping[str, int]
    rr_credit: Mapping[str, int]
    out_of_office: frozenset[str] = frozenset()
    exclude: frozenset[str] = frozenset()
    # Reps no enabled chat platform reaches (``scoring.reach``), with why: their card would be
    # parked undelivered, so they get no leads.
    unreachable: Mapping[str, Unreachable] = field(default_factory=dict)


@dataclass(frozen=True)
class SkippedRep:
    email: str
    reason: Unavailable


@dataclass(frozen=True)
class RoutingDecision:
    """Where the lead goes. ``rep`` is None in channel mode or when nobody is eligible;
    ``rr_credit`` is the full credit state to persist."""

    team: str | None
    rep: str | None
    mode: Literal["direct", "channel", "none"]
    matched: Matched
    trace: tuple[TraceStep, ...]
    skipped: tuple[SkippedRep, ...]
    rr_credit: Mapping[str, int]


def route(lead: LeadData, agreement: Agreement, state: RoutingState, now: datetime) -> RoutingDecision:
    """Route ``lead`` as of ``now`` (aware) given the live ``state``."""
    trace: list[TraceStep] = []
    skipped: dict[str, SkippedRep] = {}
    credit = {email.lower(): value for email, value in state.rr_credit.items()}

    owned = _account_owner(lead, agreement, state, now, trace, skipped)
    if owned is not None:
        team, rep = owned
        return RoutingDecision(
            team=team.name,
            rep=rep.email.lower(),
            mode="direct",
            matched=Matched(MatchedBy.ACCOUNT_OWNER, lead.domain),
            trace=tuple(trace),
            skipped=tuple(skipped.values()),
            rr_credit=credit,
        )

    team, matched = _choose_team(lead, agreement, trace)
    if team.handoff == "channel":
        trace.append(TraceStep(Step.CHANNEL_TEAM, {"team": team.name}))
        return RoutingDecision(
            team=team.name,
            rep=None,
            mode="channel",
            matched=matched,
            trace=tuple(trace),
            skipped=tuple(skipped.values()),
            rr_credit=credit,
        )

    candidates = _candidates(team, agreement, state, now, trace, skipped)
    if not candidates:
        mode: Literal["channel", "none"] = "channel" if team.channel is not None else "none"
        trace.append(
            TraceStep(Step.NOBODY_TO_CHANNEL if mode == "channel" else Step.NOBODY_UNASSIGNED, {"team": team.name})
        )
        return RoutingDecision(
            team=team.name,
            rep=None,
            mode=mode,
            matched=matched,
            trace=tuple(trace),
            skipped=tuple(skipped.values()),
            rr_credit=credit,
        )

    chosen = _round_robin(candidates, credit)
    trace.append(
        TraceStep(
            Step.ROUND_ROBIN,
            {
                "candidates": [r.email.lower() for r in candidates],
                "weights": [r.weight for r in candidates],
                "chosen": chosen.email.lower(),
            },
        )
    )
    return RoutingDecision(
        team=team.name,
        rep=chosen.email.lower(),
        mode="direct",
        matched=matched,
        trace=tuple(trace),
        skipped=tuple(skipped.values()),
        rr_credit=credit,
    )


def _account_owner(
    lead: LeadData,
    agreement: Agreement,
    state: RoutingState,
    now: datetime,
    trace: list[TraceStep],
    skipped: dict[str, SkippedRep],
) -> tuple[Team, Rep] | None:
    owners = {domain.lower(): email for domain, email in agreement.routing.account_owners.items()}
    owner = owners.get(lead.domain)
    found = agreement.rep(owner) if owner else None
    if found is None:
        return None
    team, rep = found
    reason = _unavailable(rep, state, now)
    if reason is None:
        trace.append(TraceStep(Step.OWNER, {"domain": lead.domain, "rep": rep.email.lower(), "team": team.name}))
        return found
    skipped[rep.email.lower()] = SkippedRep(rep.email.lower(), reason)
    trace.append(
        TraceStep(Step.OWNER_UNAVAILABLE, {"domain": lead.domain, "rep": rep.email.lower(), "why": reason.as_json()})
    )
    return None


def _choose_team(lead: LeadData, agreement: Agreement, trace: list[TraceStep]) -> tuple[Team, Matched]:
    for rule in agreement.routing.rules:
        misses = [_miss(c, lead.field(c.field)) for c in rule.when if not c.matches(lead.field(c.field))]
        team = agreement.team(rule.team)
        if misses:
            trace.append(TraceStep(Step.RULE_MISSED, {"rule": rule.name, "misses": misses}))
            continue
        if team is None:
            trace.append(TraceStep(Step.RULE_TEAM_MISSING, {"rule": rule.name, "team": rule.team}))
            continue
        conditions = [c.as_json() for c in rule.when]
        trace.append(TraceStep(Step.RULE_MATCHED, {"rule": rule.name, "conditions": conditions, "team": team.name}))
        return team, Matched(MatchedBy.RULE, rule.name)
    default = agreement.team(agreement.routing.default_team or "") or agreement.teams[0]
    trace.append(TraceStep(Step.DEFAULT_TEAM, {"team": default.name}))
    return default, Matched(MatchedBy.DEFAULT_TEAM)


def _miss(condition: Condition, value: Any) -> dict[str, Any]:
    # The value itself is left out: it may be personal data, and the routing trace is kept.
    return {"condition": condition.as_json(), "miss": condition.miss(value).value}


def _candidates(
    team: Team,
    agreement: Agreement,
    state: RoutingState,
    now: datetime,
    trace: list[TraceStep],
    skipped: dict[str, SkippedRep],
) -> list[Rep]:
    available: list[Rep] = []
    for rep in team.reps:
        email = rep.email.lower()
        reason = _unavailable(rep, state, now)
        if reason is None:
            available.append(rep)
        else:
            skipped.setdefault(email, SkippedRep(email, reason))
            trace.append(TraceStep(Step.SKIPPED, {"rep": email, "why": reason.as_json()}))
    in_hours = [r for r in available if is_working(now, WorkCalendar.for_rep(r, team, agreement))]
    if in_hours:
        working = {id(rep) for rep in in_hours}  # by identity: comparing pydantic models is slow
        for rep in available:
            if id(rep) not in working:
                off_hours = Unavailable(Why.OUT_OF_HOURS)
                skipped[rep.email.lower()] = SkippedRep(rep.email.lower(), off_hours)
                trace.append(TraceStep(Step.SKIPPED, {"rep": rep.email.lower(), "why": off_hours.as_json()}))
        return in_hours
    if available:
        # Better a rep who sees it first thing tomorrow than nobody at all.
        trace.append(TraceStep(Step.NOBODY_IN_HOURS))
    return available


def _unavailable(rep: Rep, state: RoutingState, now: datetime) -> Unavailable | None:
    """Why ``rep`` cannot take a lead right now, or None when they can."""
    email = rep.email.lower()
    if email in {e.lower() for e in state.exclude}:
        return Unavailable(Why.HAD_LEAD)
    if email in state.unreachable:
        return Unavailable(Why.UNREACHABLE, {"unreachable": state.unreachable[email].as_json()})
    today = now.astimezone(ZoneInfo(rep.timezone)).date()
    if email in {e.lower() for e in state.out_of_office} or any(today in period for period in rep.out_of_office):
        return Unavailable(Why.OUT_OF_OFFICE)
    active = state.active.get(email, 0)
    if active >= rep.capacity:
        return Unavailable(Why.AT_CAPACITY, {"active": active, "capacity": rep.capacity})
    return None


def _round_robin(candidates: Sequence[Rep], credit: dict[str, int]) -> Rep:
    """Smooth weighted round-robin (nginx), updating ``credit`` in place for candidates only.

    Reps outside the candidate set neither gain nor lose credit, so a rep back from holiday
    does not come back owed a flood of leads.
    """
    total = 0
    best: Rep | None = None
    for rep in candidates:
        email = rep.email.lower()
        credit[email] = credit.get(email, 0) + rep.weight
        total += rep.weight
        # Strictly greater: ties go to the rep listed first in the config.
        if best is None or credit[email] > credit[best.email.lower()]:
            best = rep
    assert best is not None  # candidates is never empty here
    credit[best.email.lower()] -= total
    return best
