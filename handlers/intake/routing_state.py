"""Load and save what routing needs from the store: rep load, round-robin credit, OOO."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import replace
from typing import cast

from sqlalchemy import Table, bindparam, func, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.services import Services
from scoring.agreement import Stage
from scoring.reach import Unreachable, unreachable_reps
from scoring.route import RoutingDecision, RoutingState
from store.models import Conversation, Handoff, HandoffState, Lead, RepState


async def ensure_reps(session: AsyncSession, services: Services) -> None:
    """Give every configured rep a row for run-time state (idempotent)."""
    known = set((await session.scalars(select(RepState.email))).all())
    now = services.clock.now()
    for team, rep in services.agreement.reps():
        email = rep.email.lower()
        if email not in known:
            session.add(RepState(email=email, team=team.name, updated_at=now))
    await session.flush()


async def load_state(
    session: AsyncSession, services: Services, team: str | None = None, exclude: Iterable[str] = ()
) -> RoutingState:
    """Routing state for all reps, locking the team's rows on PostgreSQL so concurrent
    intakes take turns on the round-robin credit instead of picking the same rep."""
    # One lock order for every transaction: without it two replicas deadlock on the rep rows.
    # populate_existing: a second load in one transaction must see credit saved by bulk UPDATE.
    reps_query = select(RepState).order_by(RepState.email).execution_options(populate_existing=True)
    if services.db.is_postgres:
        reps_query = reps_query.with_for_update()
    reps = (await session.scalars(reps_query)).all()
    offers = (
        select(Handoff.rep.label("rep"), func.count().label("n"))
        .where(Handoff.state == HandoffState.OFFERED, Handoff.rep.is_not(None))
        .group_by(Handoff.rep)
    )
    owned = (
        select(Lead.owner.label("rep"), func.count().label("n"))
        .where(Lead.stage == Stage.SAL, Lead.owner.is_not(None))
        .group_by(Lead.owner)
    )
    active: dict[str, int] = {}
    for email, count in (await session.execute(union_all(offers, owned))).all():
        if email:
            active[email] = active.get(email, 0) + count
    return RoutingState(
        active=active,
        rr_credit={r.email: r.rr_credit for r in reps},
        out_of_office=frozenset(r.email for r in reps if r.out_of_office),
        exclude=frozenset(e.lower() for e in exclude),
        unreachable=await unreachable(session, services),
    )


async def teams_installed(session: AsyncSession, services: Services) -> frozenset[str]:
    """Emails of reps with a live Teams conversation (they installed the app or wrote to it)."""
    return (await installed(session, services, {"teams"})).get("teams", frozenset())


async def installed(session: AsyncSession, services: Services, enabled: Collection[str]) -> dict[str, frozenset[str]]:
    """Per enabled platform that resolves people by email, the reps with a live conversation there."""
    by_email = [p.name for p in services.chat if p.by_email and p.name in enabled]
    if not by_email:
        return {}
    emails = [rep.email.lower() for _, rep in services.agreement.reps()]
    rows = await session.execute(
        select(Conversation.platform, Conversation.key).where(
            Conversation.platform.in_(by_email),
            Conversation.kind == "user",
            Conversation.gone.is_(False),
            Conversation.key.in_(emails),
        )
    )
    found: dict[str, set[str]] = {name: set() for name in by_email}
    for platform, key in rows.all():
        found[platform].add(key)
    return {name: frozenset(keys) for name, keys in found.items()}


async def unreachable(session: AsyncSession, services: Services) -> Mapping[str, Unreachable]:
    """Reps no configured chat platform reaches, with why (nothing when that is not known)."""
    enabled = services.reachable_on
    if not enabled:
        return {}
    holding = await installed(session, services, enabled)
    return unreachable_reps(services.agreement, enabled, installed=holding, platforms=services.chat)


def after_offer(state: RoutingState, decision: RoutingDecision) -> RoutingState:
    """The state as the next lead in the same batch must see it: new credit, one more active offer."""
    active = dict(state.active)
    if decision.rep:
        rep = decision.rep.lower()
        active[rep] = active.get(rep, 0) + 1
    return replace(state, active=active, rr_credit=dict(decision.rr_credit))


async def save_credit(
    session: AsyncSession, services: Services, credit: Mapping[str, int], before: Mapping[str, int] | None = None
) -> None:
    """Persist round-robin credit that changed since ``before`` (all of it if not given), in one statement."""
    now = services.clock.now()
    changed = [
        {"key": email, "credit": value, "now": now}
        for email, value in credit.items()
        if before is None or before.get(email) != value
    ]
    if changed:
        # Core executemany: a rep without a row yet (added to the config since start-up) is skipped.
        table = cast(Table, RepState.__table__)
        await session.execute(
            update(table)
            .where(table.c.email == bindparam("key"))
            .values(rr_credit=bindparam("credit"), updated_at=bindparam("now")),
            changed,
        )
