"""Recycling closes its loop: a recycled lead that earns new behaviour points qualifies and is offered again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from handlers.clock import ManualClock
from handlers.handoff.reject import reject
from handlers.intake.leads import ActivityIn, add_activities, lead_summary
from handlers.services import Services
from handlers.simulation import period_of, simulate
from store.models import Handoff, Lead
from tests.factories import agreement_data, make_agreement
from tests.handlers.conftest import offer


async def test_recycle_requalify_reoffer(services: Services, clock: ManualClock) -> None:
    # Offered at 55 points (explicit fit alone), rejected as "no budget": back to nurture.
    first = await offer(services)
    assert (await reject(services, first, "alice@example.com", "no_budget", None, source="test")).ok
    async with services.db.read() as session:
        lead = await session.get(Lead, first.lead_id)
    assert lead is not None and lead.stage == "recycled"

    clock.advance(timedelta(days=45))
    # New interest: a demo request fast-tracks it back to sales.
    again = await add_activities(services, lead.external_id, [ActivityIn.model_validate({"type": "demo_request"})])
    assert again is not None and again.qualified and again.offered and again.stage == "mql"
    async with services.db.read() as session:
        offers = (await session.scalars(select(Handoff).order_by(Handoff.id))).all()
    assert [o.state for o in offers] == ["rejected", "offered"]
    summary = await lead_summary(services, lead.external_id)
    assert summary is not None and summary["stage"] == "mql" and summary["qualified_at"].startswith("2027-01-07")


async def test_the_simulation_counts_recycled_leads_that_came_back(services: Services, clock: ManualClock) -> None:
    first = await offer(services)
    assert (await reject(services, first, "alice@example.com", "no_budget", None, source="test")).ok
    clock.advance(timedelta(days=3))
    async with services.db.read() as session:
        lead = await session.get(Lead, first.lead_id)
    assert lead is not None
    await add_activities(services, lead.external_id, [ActivityIn.model_validate({"type": "demo_request"})])
    # A draft without the fast track and with a threshold of 90: 55 + a demo's 30 points is not enough.
    data = agreement_data()
    strict = make_agreement(
        qualification={**data["qualification"], "threshold": 90},
        scoring={**data["scoring"], "implicit": {**data["scoring"]["implicit"], "fast_track": []}},
    )
    report = await simulate(services, strict, period_of("this quarter", services.agreement, clock.now()))
    assert report.recycled == {"total": 1, "came_back_recorded": 1, "came_back_before": 1, "came_back_after": 0}
