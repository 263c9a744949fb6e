"""Recycling closes its loop: a recycled lead that earns new behaviour points qualifies and is offered again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from handlers.clock import ManualClock
from handlers.handoff.reject import reject
from handlers.intake.leads import ActivityIn, add_activities, lead_summary
from handlers.services import Services
from store.models import Handoff, Lead
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
