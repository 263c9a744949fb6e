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
from typing import Literal
from zoneinfo import ZoneInfo

from scoring.agreement import Agreement, Rep, Team
from scoring.business_hours import WorkCalendar, is_working
from scoring.lead import LeadData


@dataclass(frozen=True)
class RoutingState:
    """Live facts routing depends on; emails are lowercase."""

    active: Mapping[str, int]
    rr_credit: Mapping[str, int]
    out_of_office: frozenset[str] = frozenset()
    exclude: frozenset[str] = frozenset()
    # Reps no enabled chat platform reaches (``scoring.reach``), with why: their card would be
    # parked undelivered, so they get no leads.
    unreachable: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SkippedRep:
    email: str
    reason: str


@dataclass(frozen=True)
class RoutingDecision:
    """Where the lead goes. ``rep`` is None in channel mode or when nobody is eligible;
    ``rr_credit`` is the full credit state to persist."""

    team: str | None
    rep: str | None
    mode: Literal["direct", "channel", "none"]
    matched: str
    trace: tuple[str, ...]
    skipped: tuple[SkippedRep, ...]
    rr_credit: Mapping[str, int]


def route(lead: LeadData, agreement: Agreement, state: RoutingState, now: datetime) -> RoutingDecision:
    """Route ``lead`` as of ``now`` (aware) given the live ``state``."""
    trace: list[str] = []
    skipped: dict[str, SkippedRep] = {}
    credit = {email.lower(): value for email, value in state.rr_credit.items()}

    owned = _account_owner(lead, agreement, state, now, trace, skipped)
    if owned is not None:
        team, rep = owned
        return RoutingDecision(
            team=team.name,
            rep=rep.email.lower(),
            mode="direct",
            matched=f"account owner of {lead.domain}",
            trace=tuple(trace),
            skipped=tuple(skipped.values()),
            rr_credit=credit,
        )

    team, matched = _choose_team(lead, agreement, trace)
    if team.handoff == "channel":
        trace.append(f"team '{team.name}' takes leads in its channel; no rep is picked")
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
            f"nobody in team '{team.name}' can take the lead; "
            + ("posting it to the team channel" if mode == "channel" else "it stays unassigned")
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
        f"round-robin among {', '.join(r.email.lower() for r in candidates)} "
        f"(weights {', '.join(str(r.weight) for r in candidates)}) chose {chosen.email.lower()}"
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
    trace: list[str],
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
        trace.append(f"{lead.domain} is an account owned by {rep.email.lower()} (team '{team.name}')")
        return found
    skipped[rep.email.lower()] = SkippedRep(rep.email.lower(), reason)
    trace.append(f"{lead.domain} is owned by {rep.email.lower()}, who is {reason}; routing as usual")
    return None


def _choose_team(lead: LeadData, agreement: Agreement, trace: list[str]) -> tuple[Team, str]:
    for rule in agreement.routing.rules:
        misses = [c.unmet(lead.field(c.field)) for c in rule.when if not c.matches(lead.field(c.field))]
        team = agreement.team(rule.team)
        if misses or team is None:
            why = "; ".join(misses) or f"its team '{rule.team}' does not exist"
            trace.append(f"rule '{rule.name}' not taken: {why}")
            continue
        trace.append(f"rule '{rule.name}' matched ({'; '.join(c.describe() for c in rule.when)}): team '{team.name}'")
        return team, f"rule '{rule.name}'"
    default = agreement.team(agreement.routing.default_team or "") or agreement.teams[0]
    trace.append(f"no routing rule matched; default team '{default.name}'")
    return default, "default team"


def _candidates(
    team: Team,
    agreement: Agreement,
    state: RoutingState,
    now: datetime,
    trace: list[str],
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
            trace.append(f"skipped {email}: {reason}")
    in_hours = [r for r in available if is_working(now, WorkCalendar.for_rep(r, team, agreement))]
    if in_hours:
        working = {id(rep) for rep in in_hours}  # by identity: comparing pydantic models is slow
        for rep in available:
            if id(rep) not in working:
                skipped[rep.email.lower()] = SkippedRep(rep.email.lower(), "out of working hours")
                trace.append(f"skipped {rep.email.lower()}: out of working hours")
        return in_hours
    if available:
        # Better a rep who sees it first thing tomorrow than nobody at all.
        trace.append("nobody in working hours; chose among available reps")
    return available


def _unavailable(rep: Rep, state: RoutingState, now: datetime) -> str | None:
    """Why ``rep`` cannot take a lead right now, or None when they can."""
    email = rep.email.lower()
    if email in {e.lower() for e in state.exclude}:
        return "already had this lead"
    if email in state.unreachable:
        return state.unreachable[email]
    today = now.astimezone(ZoneInfo(rep.timezone)).date()
    if email in {e.lower() for e in state.out_of_office} or any(today in period for period in rep.out_of_office):
        return "out of office"
    active = state.active.get(email, 0)
    if active >= rep.capacity:
        return f"at capacity ({active}/{rep.capacity})"
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
