"""A seeded store for the query tests: rows written straight to the models, figures known by hand.

The "week" data set (all in week 47, Mon 16 – Sun 22 Nov 2026, inside Q4):

| lead | team       | offered to | offered   | outcome                          | first touch | SQL |
| ---- | ---------- | ---------- | --------- | -------------------------------- | ----------- | --- |
| L1   | enterprise | alice      | T0        | accepted +10 min (due +30)       | +20 min     | yes |
| L2   | enterprise | alice      | T0+1d     | accepted +40 min (late)          | +60 min     |     |
| L3   | enterprise | bob        | T0+2d     | rejected +5 min, no_fit "Too small" |          |     |
| L4   | enterprise | bob        | T0+2d     | accepted +20 min                 |             |     |
| L5   | emea       | clara      | T0+3d     | rejected, no_budget              |             |     |
| L6   | emea       | david      | T0+3d     | still open, due +30 min (past)   |             |     |
| L7   | enterprise | alice      | T0+4d     | accepted +30 min (= due: on time)| +100 min    |     |
| L0   | enterprise | alice      | Sep 2026  | accepted (Q3: outside "this quarter") |        |     |

Escalations (``sla.escalated``): L2's handoff at T0+1d+30m, L6's at T0+3d+30m.
Touches by alice: one at T0+1h (last week) and one on Mon 23 Nov 14:00 UTC (this week).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.followup import sla
from handlers.services import Services
from store.models import AuditEvent, Feedback, Handoff, Lead, Touch

T0 = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
DAY = timedelta(days=1)


@dataclass
class Seeder:
    """Writes rows in one session; every lead gets a distinct external id and email."""

    session: AsyncSession
    services: Services
    count: int = 0
    leads: dict[str, Lead] = field(default_factory=dict)
    handoffs: dict[str, Handoff] = field(default_factory=dict)

    async def lead(
        self,
        label: str,
        *,
        team: str | None = "enterprise",
        stage: str = "mql",
        owner: str | None = None,
        qualified_at: datetime | None = None,
        accepted_at: datetime | None = None,
        first_touch_at: datetime | None = None,
        sql_at: datetime | None = None,
        source: str | None = "webinar",
        campaign: str | None = "Q4 webinar",
        **extra: Any,
    ) -> Lead:
        self.count += 1
        now = self.services.clock.now()
        lead = Lead(
            external_id=f"crm-{label}",
            email=f"{label.lower()}@prospect.example",
            data={"first_name": "Pat", "last_name": label, "company": f"{label} Inc", **extra},
            stage=stage,
            score=60,
            fast_track=False,
            explanation={
                "total": 60,
                "threshold": 50,
                "explicit": 45,
                "implicit": 15,
                "lines": [
                    {
                        "rule": "Target industry",
                        "kind": "explicit",
                        "points": 15,
                        "detail": "industry is one of software",
                    }
                ],
            },
            routing={"trace": ["rule Europe goes to EMEA: no match", "default team enterprise"], "skipped": []},
            team=team,
            owner=owner,
            source=source,
            campaign=campaign,
            created_at=now,
            updated_at=now,
            qualified_at=qualified_at,
            accepted_at=accepted_at,
            first_touch_at=first_touch_at,
            sql_at=sql_at,
        )
        self.session.add(lead)
        await self.session.flush()
        self.leads[label] = lead
        return lead

    async def handoff(
        self,
        label: str,
        *,
        rep: str | None,
        state: str,
        offered_at: datetime,
        decided_at: datetime | None = None,
        due_at: datetime | None = None,
        mode: str = "direct",
        fast: bool = False,
    ) -> Handoff:
        lead = self.leads[label]
        agreement = self.services.agreement
        team = agreement.team(lead.team or "enterprise")
        assert team is not None
        handoff = Handoff(
            lead_id=lead.id,
            team=team.name,
            rep=rep,
            mode=mode,
            state=state,
            fence=1,
            policy=sla.choose_policy(agreement, team, fast),
            previous_reps=[],
            offered_at=offered_at,
            due_at=due_at,
            decided_at=decided_at,
            decided_by=rep if decided_at else None,
        )
        self.session.add(handoff)
        await self.session.flush()
        self.handoffs[label] = handoff
        return handoff

    async def feedback(self, label: str, *, rep: str, reason: str, at: datetime, note: str | None = None) -> None:
        lead = self.leads[label]
        self.session.add(
            Feedback(
                lead_id=lead.id,
                handoff_id=self.handoffs[label].id,
                rep=rep,
                reason=reason,
                outcome="recycle",
                note=note,
                source=lead.source,
                campaign=lead.campaign,
                created_at=at,
            )
        )

    async def touch(self, label: str, *, rep: str, at: datetime, kind: str = "call") -> None:
        self.session.add(Touch(lead_id=self.leads[label].id, rep=rep, kind=kind, created_at=at))

    async def audit(
        self, label: str, action: str, at: datetime, actor: str = "sla", after: dict[str, Any] | None = None
    ) -> None:
        self.session.add(
            AuditEvent(lead_id=self.leads[label].id, actor=actor, action=action, before=None, after=after, at=at)
        )


SeedFn = Callable[[Callable[[Seeder], Awaitable[None]]], Awaitable[Seeder]]


@pytest.fixture
def seed(services: Services) -> SeedFn:
    async def run(build: Callable[[Seeder], Awaitable[None]]) -> Seeder:
        async with services.db.transaction() as session:
            seeder = Seeder(session, services)
            await build(seeder)
        return seeder

    return run


async def build_week(s: Seeder) -> None:
    alice, bob, clara, david = "alice@example.com", "bob@example.com", "clara@example.com", "david@example.com"
    t1, t2, t3, t4 = T0 + DAY, T0 + 2 * DAY, T0 + 3 * DAY, T0 + 4 * DAY
    await s.lead(
        "L1",
        stage="sql",
        owner=alice,
        qualified_at=T0,
        accepted_at=T0 + 10 * MIN,
        first_touch_at=T0 + 30 * MIN,
        sql_at=T0 + DAY,
    )
    await s.handoff("L1", rep=alice, state="accepted", offered_at=T0, decided_at=T0 + 10 * MIN, due_at=T0 + 30 * MIN)
    await s.lead(
        "L2", stage="sal", owner=alice, qualified_at=t1, accepted_at=t1 + 40 * MIN, first_touch_at=t1 + 100 * MIN
    )
    await s.handoff("L2", rep=alice, state="accepted", offered_at=t1, decided_at=t1 + 40 * MIN, due_at=t1 + 30 * MIN)
    await s.lead("L3", stage="disqualified", qualified_at=t2)
    await s.handoff("L3", rep=bob, state="rejected", offered_at=t2, decided_at=t2 + 5 * MIN, due_at=t2 + 30 * MIN)
    await s.feedback("L3", rep=bob, reason="no_fit", at=t2 + 5 * MIN, note="Too small")
    await s.lead(
        "L4",
        stage="sal",
        owner=bob,
        qualified_at=t2,
        accepted_at=t2 + 20 * MIN,
        source="ebook",
        campaign="Pricing guide",
    )
    await s.handoff("L4", rep=bob, state="accepted", offered_at=t2, decided_at=t2 + 20 * MIN, due_at=t2 + 30 * MIN)
    await s.lead("L5", team="emea", stage="recycled", qualified_at=t3)
    await s.handoff("L5", rep=clara, state="rejected", offered_at=t3, decided_at=t3 + 15 * MIN, due_at=t3 + 30 * MIN)
    await s.feedback("L5", rep=clara, reason="no_budget", at=t3 + 15 * MIN)
    await s.lead("L6", team="emea", qualified_at=t3)
    await s.handoff("L6", rep=david, state="offered", offered_at=t3, due_at=t3 + 30 * MIN)
    await s.lead(
        "L7", stage="sal", owner=alice, qualified_at=t4, accepted_at=t4 + 30 * MIN, first_touch_at=t4 + 130 * MIN
    )
    await s.handoff("L7", rep=alice, state="accepted", offered_at=t4, decided_at=t4 + 30 * MIN, due_at=t4 + 30 * MIN)
    q3 = datetime(2026, 9, 15, 15, 0, tzinfo=UTC)
    await s.lead("L0", stage="sal", owner=alice, qualified_at=q3, accepted_at=q3 + 5 * MIN)
    await s.handoff("L0", rep=alice, state="accepted", offered_at=q3, decided_at=q3 + 5 * MIN, due_at=q3 + 30 * MIN)
    await s.audit("L2", "sla.escalated", t1 + 30 * MIN, after={"handoff_id": s.handoffs["L2"].id, "chain": "accept"})
    await s.audit("L6", "sla.escalated", t3 + 30 * MIN, after={"handoff_id": s.handoffs["L6"].id, "chain": "accept"})
    await s.touch("L1", rep=alice, at=T0 + 60 * MIN)
    await s.touch("L2", rep=alice, at=datetime(2026, 11, 23, 14, 0, tzinfo=UTC))


@pytest.fixture
async def week(seed: SeedFn) -> Seeder:
    return await seed(build_week)
