"""The shared metrics, as SQL aggregates over one period and one scope.

Definitions (each uses an index named in ``store/models.py``):

- MQLs: leads whose ``qualified_at`` falls in the period; of those, how many
  were accepted (``accepted_at``) and became SQL (``sql_at``): the conversion.
- Offers: handoffs whose ``offered_at`` falls in the period, counted by state;
  acceptance rate = accepted / (accepted + rejected).
- Time to accept: ``decided_at - offered_at`` of accepted offers; time to first
  touch: ``first_touch_at - accepted_at`` of the period's MQLs.
- SLA attainment: accepted offers decided by their ``due_at`` / accepted offers.
- Escalations: ``sla.escalated`` audit events in the period.
- Rejection reasons: feedback written in the period, by reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.audit import AuditAction
from handlers.queries.sqltime import dialect_of, driver_rows, interpolate, percentiles, seconds_between
from store.models import AuditEvent, Feedback, Handoff, HandoffState, Lead, Touch

ALL_STATES = [s.value for s in HandoffState]


@dataclass(frozen=True)
class Scope:
    """Whose numbers: ``teams`` None means every team; ``rep`` narrows to one rep (lower-case email)."""

    teams: tuple[str, ...] | None = None
    rep: str | None = None
    label: str = "everyone"
    rep_emails: tuple[str, ...] = ()  # the teams' reps, to scope tables keyed by rep only


@dataclass
class RepRow:
    rep: str
    offers: int = 0
    accepted: int = 0
    rejected: int = 0
    open: int = 0
    on_time: int = 0
    avg_accept_seconds: float | None = None
    touches: int = 0
    reassigned: int = 0
    withdrawn: int = 0


@dataclass
class Figures:
    mqls: int = 0
    sals: int = 0
    sqls: int = 0
    offers: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    on_time: int = 0
    accept_p50: float | None = None
    accept_p90: float | None = None
    touch_p50: float | None = None
    touch_p90: float | None = None
    escalations: int = 0
    reasons: list[tuple[str, int]] = field(default_factory=list)
    reps: list[RepRow] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return self.by_state.get(HandoffState.ACCEPTED, 0)

    @property
    def rejected(self) -> int:
        return self.by_state.get(HandoffState.REJECTED, 0)

    @property
    def open(self) -> int:
        return self.by_state.get(HandoffState.OFFERED, 0)

    @property
    def reassigned(self) -> int:
        """Offers moved on to another rep (by a manager or the SLA): decided by neither accept nor reject."""
        return self.by_state.get(HandoffState.REASSIGNED, 0)

    @property
    def withdrawn(self) -> int:
        return self.by_state.get(HandoffState.WITHDRAWN, 0)


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _handoff_rep() -> ColumnElement[Any]:
    # Channel offers have no rep until someone takes them; the taker is ``decided_by``.
    return func.coalesce(Handoff.rep, Handoff.decided_by)


def handoff_scope(scope: Scope) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if scope.teams is not None:
        out.append(Handoff.team.in_(scope.teams))
    if scope.rep is not None:
        out.append(or_(Handoff.rep == scope.rep, and_(Handoff.rep.is_(None), Handoff.decided_by == scope.rep)))
    return out


def lead_scope(scope: Scope) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if scope.teams is not None:
        out.append(Lead.team.in_(scope.teams))
    if scope.rep is not None:
        out.append(Lead.owner == scope.rep)
    return out


def feedback_scope(scope: Scope) -> list[ColumnElement[bool]]:
    if scope.rep is not None:
        return [Feedback.rep == scope.rep]
    if scope.teams is not None:
        return [Feedback.rep.in_(scope.rep_emails)]
    return []


def offered_between(start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    # "state IN (every state)" lets the (state, offered_at, ...) index serve a pure time range.
    return [Handoff.state.in_(ALL_STATES), Handoff.offered_at >= start, Handoff.offered_at < end]


async def funnel(session: AsyncSession, scope: Scope, start: datetime, end: datetime) -> tuple[int, int, int, int]:
    """(MQLs, of which accepted, of which SQL, of which touched after acceptance) qualified in ``[start, end)``."""
    # "Touched" is both times set (what the touch duration needs), counted without computing it.
    touched = case((and_(Lead.accepted_at.is_not(None), Lead.first_touch_at.is_not(None)), 1))
    row = (
        await session.execute(
            select(func.count(), func.count(Lead.accepted_at), func.count(Lead.sql_at), func.count(touched)).where(
                Lead.qualified_at >= start, Lead.qualified_at < end, *lead_scope(scope)
            )
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


@dataclass
class Offers:
    """The period's offers: totals by state, accepted offers that met their deadline, a row per rep
    (channel offers nobody took count only in the totals) and, when the accepted offers were read
    row by row (``read_offers``), every accepted offer's wait in seconds, ascending."""

    by_state: dict[str, int]
    on_time: int
    reps: dict[str, RepRow]
    waits: list[float] | None = None


async def offers(session: AsyncSession, scope: Scope, start: datetime, end: datetime) -> Offers:
    """One pass over the period's offers: grouped by rep and state in SQL on PostgreSQL, read row
    by row on SQLite (see ``read_offers``). Both give the same figures."""
    if dialect_of(session) == "postgresql":
        return await grouped_offers(session, scope, start, end)
    return await read_offers(session, scope, start, end)


def _offer_columns(dialect: str) -> tuple[ColumnElement[Any], ColumnElement[int], ColumnElement[float]]:
    """(rep, on time 0/1, seconds from offer to decision) of one offer."""
    accepted = Handoff.state == HandoffState.ACCEPTED
    on_time = case((and_(accepted, or_(Handoff.due_at.is_(None), Handoff.decided_at <= Handoff.due_at)), 1), else_=0)
    return _handoff_rep().label("rep"), on_time, seconds_between(dialect, Handoff.offered_at, Handoff.decided_at)


async def grouped_offers(session: AsyncSession, scope: Scope, start: datetime, end: datetime) -> Offers:
    """``offers()`` as one GROUP BY rep, state (no ``waits``: the percentiles are a query of their own)."""
    rep, on_time, wait = _offer_columns(dialect_of(session))
    rows = (
        await session.execute(
            select(rep, Handoff.state, func.count(), func.sum(on_time), func.avg(wait))
            .where(*offered_between(start, end), *handoff_scope(scope))
            .group_by(rep, Handoff.state)
        )
    ).all()
    by_state: dict[str, int] = {}
    met = 0
    reps: dict[str, RepRow] = {}
    for email, state, count, timely, average in rows:
        by_state[state] = by_state.get(state, 0) + int(count)
        met += int(timely or 0)
        if email is not None:
            _add_to_rep(
                reps.setdefault(str(email), RepRow(str(email))),
                state,
                int(count),
                int(timely or 0),
                None if average is None else float(average),
            )
    return Offers(by_state, met, reps)


async def read_offers(session: AsyncSession, scope: Scope, start: datetime, end: datetime) -> Offers:
    """``offers()`` with the accepted offers read one row each, straight from the driver.

    SQLite has no hash aggregation: a GROUP BY sorts every offer of the period, and each wait
    percentile sorted the accepted ones again. Here only the other states (a quarter of the
    offers) are grouped in SQL; the accepted ones (~25,000 index entries in a quarter) are read
    once, with their waits, which gives their per-rep counts and averages and, sorted here, the
    wait percentiles for less than that one GROUP BY cost.
    """
    rep, on_time, wait = _offer_columns(dialect_of(session))
    period = [Handoff.offered_at >= start, Handoff.offered_at < end, *handoff_scope(scope)]
    others = [state for state in ALL_STATES if state != HandoffState.ACCEPTED]
    groups: dict[tuple[str | None, str], tuple[int, int, list[float]]] = {
        (email, state): (int(count), 0, [])
        for email, state, count in (
            await session.execute(
                select(rep, Handoff.state, func.count())
                .where(Handoff.state.in_(others), *period)
                .group_by(rep, Handoff.state)
            )
        ).all()
    }
    accepted: dict[str | None, list[Any]] = {}  # rep -> [count, on time, waits]
    for email, timely, seconds in await driver_rows(
        session, select(rep, on_time, wait).where(Handoff.state == HandoffState.ACCEPTED, *period)
    ):
        group = accepted.get(email)
        if group is None:
            group = accepted[email] = [0, 0, []]
        group[0] += 1
        group[1] += timely
        if seconds is not None:
            group[2].append(seconds)
    for email, (count, timely, waits) in accepted.items():
        groups[(email, HandoffState.ACCEPTED.value)] = (count, timely, waits)
    by_state: dict[str, int] = {}
    met = 0
    reps: dict[str, RepRow] = {}
    all_waits: list[float] = []
    # In GROUP BY order (no rep first, as SQLite sorts NULL), so the dicts come out as they did from SQL.
    for (email, state), (count, timely, waits) in sorted(groups.items(), key=lambda g: (g[0][0] or "", g[0][1])):
        by_state[state] = by_state.get(state, 0) + count
        met += timely
        all_waits += waits
        if email is not None:
            _add_to_rep(
                reps.setdefault(str(email), RepRow(str(email))),
                state,
                count,
                timely,
                math.fsum(waits) / len(waits) if waits else None,
            )
    all_waits.sort()
    return Offers(by_state, met, reps, all_waits)


def _add_to_rep(row: RepRow, state: str, count: int, timely: int, average: float | None) -> None:
    row.offers += count
    if state == HandoffState.ACCEPTED:
        row.accepted, row.on_time = count, timely
        row.avg_accept_seconds = average
    elif state == HandoffState.REJECTED:
        row.rejected = count
    elif state == HandoffState.OFFERED:
        row.open = count
    elif state == HandoffState.REASSIGNED:
        row.reassigned = count
    elif state == HandoffState.WITHDRAWN:
        row.withdrawn = count


async def rejection_reasons(
    session: AsyncSession, scope: Scope, start: datetime, end: datetime, source: str | None = None, limit: int = 10
) -> list[tuple[str, int]]:
    conditions = [Feedback.created_at >= start, Feedback.created_at < end, *feedback_scope(scope)]
    if source is not None:
        conditions.append(func.lower(Feedback.source) == source.lower())
    rows = (
        await session.execute(
            select(Feedback.reason, func.count().label("n"))
            .where(*conditions)
            .group_by(Feedback.reason)
            .order_by(func.count().desc(), Feedback.reason)
            .limit(limit)
        )
    ).all()
    return [(str(reason), int(count)) for reason, count in rows]


async def escalations(session: AsyncSession, scope: Scope, start: datetime, end: datetime) -> int:
    query = (
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == AuditAction.SLA_ESCALATED, AuditEvent.at >= start, AuditEvent.at < end)
    )
    if scope.rep is not None or scope.teams is not None:
        # The escalation names its handoff; the handoff says whose offer (or lead) it was.
        query = query.join(Handoff, Handoff.id == AuditEvent.after["handoff_id"].as_integer()).where(
            *handoff_scope(scope)
        )
    return int(await session.scalar(query) or 0)


async def add_touches(session: AsyncSession, table: dict[str, RepRow], start: datetime, until: datetime) -> None:
    rows = (
        await session.execute(
            select(Touch.rep, func.count())
            .where(Touch.rep.in_(list(table)), Touch.created_at >= start, Touch.created_at < until)
            .group_by(Touch.rep)
        )
    ).all()
    for email, count in rows:
        table[str(email)].touches = int(count)


async def gather(
    session: AsyncSession, scope: Scope, start: datetime, end: datetime, until: datetime, with_reps: bool = True
) -> Figures:
    """Every figure for ``scope`` over ``[start, end)``; ``until`` (<= end) bounds touch counts.

    One index-only pass over the period's MQLs for the funnel and one for the first-touch
    percentiles; one over its offers (on SQLite it also gives the wait percentiles, on
    PostgreSQL those are a query of their own); plus small indexed counts (escalations,
    rejection reasons, touches per rep).
    """
    dialect = dialect_of(session)
    figures = Figures()
    figures.mqls, figures.sals, figures.sqls, touched = await funnel(session, scope, start, end)
    period_offers = await offers(session, scope, start, end)
    figures.by_state, figures.on_time, reps = period_offers.by_state, period_offers.on_time, period_offers.reps
    figures.offers = sum(figures.by_state.values())
    if period_offers.waits is not None:
        figures.accept_p50, figures.accept_p90 = interpolate(period_offers.waits, [0.5, 0.9])
    elif figures.accepted:
        figures.accept_p50, figures.accept_p90 = await percentiles(
            session,
            seconds_between(dialect, Handoff.offered_at, Handoff.decided_at),
            [*offered_between(start, end), Handoff.state == HandoffState.ACCEPTED, *handoff_scope(scope)],
            [0.5, 0.9],
        )
    if touched:
        figures.touch_p50, figures.touch_p90 = await percentiles(
            session,
            seconds_between(dialect, Lead.accepted_at, Lead.first_touch_at),
            [Lead.qualified_at >= start, Lead.qualified_at < end, *lead_scope(scope)],
            [0.5, 0.9],
        )
    figures.escalations = await escalations(session, scope, start, end)
    figures.reasons = await rejection_reasons(session, scope, start, end, limit=5)
    if with_reps:
        for email in scope.rep_emails if scope.rep is None else (scope.rep,):
            reps.setdefault(email, RepRow(email))
        await add_touches(session, reps, start, until)
        figures.reps = sorted(reps.values(), key=lambda r: (-r.offers, r.rep))
    return figures
