"""Scores stay current: behaviour points fade as the clock moves, and a faded lead is not offered late."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.jobs.decay import run_decay
from handlers.agreement.decay import refresh_scores
from handlers.clock import ManualClock
from handlers.intake.leads import ActivityIn, LeadIn, add_activities, ingest, lead_summary
from handlers.services import Services
from store.models import Handoff
from tests.factories import lead_payload


def _lead(**fields: object) -> LeadIn:
    return LeadIn.model_validate(lead_payload(**fields))


def _event(kind: str) -> ActivityIn:
    return ActivityIn.model_validate({"type": kind})


async def test_the_stored_score_decays_when_the_clock_moves(services: Services, clock: ManualClock) -> None:
    # 35 explicit points (no senior title) + a webinar (15) = 50: an MQL, offered.
    lead = _lead(title="Manager", activities=[{"type": "webinar_attended"}])
    (outcome,) = await ingest(services, [lead])
    assert outcome.score == 50 and outcome.offered
    assert await refresh_scores(services) == 0  # nothing has faded yet

    clock.advance(timedelta(days=30))  # one half-life: the webinar is worth 7.5 → 8
    assert await refresh_scores(services) == 1
    summary = await lead_summary(services, lead.external_id)
    assert summary is not None and summary["score"] == 43
    assert summary["explanation"]["implicit"] == 8 and summary["stage"] == "mql"  # the stage stays sales'
    webinar = next(line for line in summary["explanation"]["lines"] if line["kind"] == "implicit")
    assert "decayed (half-life 30d)" in webinar["detail"]
    assert await refresh_scores(services) == 0  # already current


async def test_the_hourly_job_runs_once_per_hour(services: Services, clock: ManualClock) -> None:
    await ingest(services, [_lead(title="Manager", activities=[{"type": "webinar_attended"}])])
    clock.advance(timedelta(days=60))
    assert await run_decay(services) == 1
    assert await run_decay(services) is None  # this hour's run is done (another replica's, say)


async def test_a_lead_whose_points_faded_is_not_offered_late(services: Services, clock: ManualClock) -> None:
    # 35 explicit points (no senior title) + a pricing view (10) = 45: below the threshold of 50.
    faded = _lead(title="Manager", activities=[{"type": "pricing_page_viewed"}])
    fresh = _lead(title="Manager", activities=[{"type": "pricing_page_viewed"}])
    outcomes = await ingest(services, [faded, fresh])
    assert [o.offered for o in outcomes] == [False, False]
    # The same white paper (+10) on the same day would make it 55: an MQL, offered.
    now = await add_activities(services, fresh.external_id, [_event("whitepaper_downloaded")])
    assert now is not None and now.score == 55 and now.offered
    clock.advance(timedelta(days=60))  # two half-lives: the pricing view is worth 2.5 → 3
    late = await add_activities(services, faded.external_id, [_event("whitepaper_downloaded")])
    assert late is not None and late.score == 48 and not late.offered and late.stage == "captured"
    async with services.db.read() as session:
        assert len((await session.scalars(select(Handoff))).all()) == 1
