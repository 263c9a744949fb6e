"""``feedback``, ``lead``, ``my`` and ``ooo`` against the seeded store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from handlers.queries import answer, my_leads
from handlers.services import Services
from store.models import RepState
from tests.queries.conftest import Seeder, SeedFn

ALICE, MARK = "alice@example.com", "mark.marketer@example.com"


async def test_feedback_counts_reasons_and_quotes_notes(services: Services, week: Seeder) -> None:
    notice = await answer(services, "feedback last 30 days", MARK)
    assert notice.tables[0].rows == [["No budget", "1", "50%"], ["No fit (size, title, geography)", "1", "50%"]]
    assert notice.lines == ["“Too small” (No fit (size, title, geography), Bob Example)"]
    assert next(f.value for f in notice.fields if f.label == "By source") == "webinar 2"


async def test_feedback_by_source_is_case_insensitive(services: Services, week: Seeder) -> None:
    notice = await answer(services, "feedback this quarter source WEBINAR", MARK)
    assert notice.title.startswith("Rejection feedback for everyone from source “WEBINAR”")
    assert sum(int(row[1]) for row in notice.tables[0].rows) == 2


async def test_feedback_for_a_quiet_period(services: Services, week: Seeder) -> None:
    notice = await answer(services, "feedback today", MARK)
    assert notice.lines == ["No leads were rejected in this period."]


async def test_lead_by_crm_id_shows_stage_owner_score_routing_history(services: Services, week: Seeder) -> None:
    notice = await answer(services, "lead crm-L2", ALICE)
    values = {f.label: f.value for f in notice.fields}
    assert (values["Stage"], values["Owner"], values["Score"]) == ("SAL", "Alice Example", "60 (threshold 50)")
    # The card's wording of a score line (unified with the Slack and Teams cards).
    assert "Target industry: +15 (industry is one of software)" in notice.lines
    assert "Routing: default team enterprise" in notice.lines
    assert any("Escalated to the managers by" in line for line in notice.lines)
    assert not any("sla.escalated" in line for line in notice.lines)


async def test_lead_by_email_and_by_number(services: Services, week: Seeder) -> None:
    by_email = await answer(services, "lead <mailto:l4@prospect.example|l4@prospect.example>", MARK)
    by_number = await answer(services, f"lead {week.leads['L4'].id}", MARK)
    assert by_email.title == by_number.title == f"Lead #{week.leads['L4'].id}: Pat L4 (L4 Inc)"


async def test_lead_of_another_team_is_refused_to_a_rep(services: Services, week: Seeder) -> None:
    notice = await answer(services, "lead crm-L2", "clara@example.com")
    assert notice.title == "Sorry, I can't show you that lead."
    assert "Morgan Manager" in notice.lines[0]


async def test_unknown_lead(services: Services) -> None:
    notice = await answer(services, "lead crm-nope", MARK)
    assert notice.title == "I can't find a lead “crm-nope”."


async def test_my_lists_open_offers_and_accepted_leads_with_deadlines(services: Services, seed: SeedFn) -> None:
    now = services.clock.now()

    async def build(s: Seeder) -> None:
        await s.lead("OPEN", qualified_at=now)
        await s.handoff("OPEN", rep=ALICE, state="offered", offered_at=now, due_at=now + timedelta(minutes=30))
        await s.lead("HOT", stage="sal", owner=ALICE, qualified_at=now, accepted_at=now)
        # The "hot" policy's first-touch escalation is 30 minutes, round the clock.
        await s.handoff("HOT", rep=ALICE, state="accepted", offered_at=now, decided_at=now, fast=True)
        await s.touch("HOT", rep=ALICE, at=now)
        await s.touch("HOT", rep=ALICE, at=datetime(2026, 11, 20, 15, tzinfo=UTC))  # last week

    seeded = await seed(build)
    mine = await my_leads(services, ALICE)
    assert [(i.lead_id, i.due_at) for i in mine.offers] == [(seeded.leads["OPEN"].id, now + timedelta(minutes=30))]
    assert [(i.lead_id, i.due_at) for i in mine.accepted] == [(seeded.leads["HOT"].id, now + timedelta(minutes=30))]
    assert mine.touches_this_week == 1
    notice = await answer(services, "my leads", ALICE)
    assert [t.columns[0] for t in notice.tables] == ["Offered to you", "Accepted"]
    assert notice.tables[0].rows[0][2] == "Mon 23 Nov 10:30 EST"


async def test_my_with_nothing_to_do(services: Services) -> None:
    notice = await answer(services, "my", ALICE)
    assert notice.lines == ["Nothing waiting for you: no open offers and no accepted leads to work."]


async def test_my_for_a_non_rep(services: Services) -> None:
    notice = await answer(services, "my", MARK)
    assert notice.title == "You have no leads of your own."


async def test_ooo_on_sets_the_flag_through_the_ooo_flow(services: Services) -> None:
    notice = await answer(services, "ooo on", ALICE)
    assert notice.title == "You're out of office."
    async with services.db.transaction() as session:
        state = await session.scalar(select(RepState).where(RepState.email == ALICE))
    assert state is not None and state.out_of_office


async def test_ooo_for_a_non_rep_is_refused(services: Services) -> None:
    notice = await answer(services, "ooo on", MARK)
    assert notice.title == "Out of office is for reps."
