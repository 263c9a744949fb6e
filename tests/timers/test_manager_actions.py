"""The escalation's buttons: only managers of the lead's team may reassign or take over."""

from __future__ import annotations

from handlers.handoff.ooo import set_out_of_office
from handlers.handoff.reassign import reassign, take_over
from handlers.services import Services
from handlers.views.actions import ButtonData
from store.models import AuditEvent, Handoff, Lead, OutboxMessage, Timer
from tests.timers.conftest import offer, posts, rows, simulate_acceptance

MORGAN, MIA = "morgan.manager@example.com", "mia.manager@example.com"
ALICE, BOB = "alice@example.com", "bob@example.com"


async def snapshot(services: Services) -> tuple[object, ...]:
    """Everything a manager action could change."""
    handoffs = [(h.id, h.rep, h.state, h.fence) for h in await rows(services, Handoff, order=Handoff.id)]
    leads = [(lead.stage, lead.owner) for lead in await rows(services, Lead)]
    timers = [(t.id, t.status) for t in await rows(services, Timer, order=Timer.id)]
    return handoffs, leads, timers, len(await rows(services, OutboxMessage)), len(await rows(services, AuditEvent))


async def test_a_rep_pressing_reassign_is_refused_and_nothing_changes(services: Services) -> None:
    data = await offer(services)
    before = await snapshot(services)
    outcome = await reassign(services, data, BOB, BOB, source="test")
    assert (outcome.ok, outcome.code) == (False, "not_allowed")
    assert outcome.message == "Only Morgan Manager (managers of team enterprise) can reassign this lead."
    assert await snapshot(services) == before


async def test_a_manager_of_another_team_cannot_take_over(services: Services) -> None:
    data = await offer(services)
    before = await snapshot(services)
    outcome = await take_over(services, data, MIA, source="test")
    assert outcome.code == "not_allowed" and "managers of team enterprise" in outcome.message
    assert await snapshot(services) == before


async def test_the_manager_reassigns_the_offer_to_the_chosen_rep(services: Services) -> None:
    data = await offer(services)
    outcome = await reassign(services, data, MORGAN.upper(), BOB, source="test")
    assert outcome.ok, outcome
    old, new = await rows(services, Handoff, order=Handoff.id)
    assert (old.state, old.decided_by) == ("reassigned", MORGAN)
    assert (new.rep, new.state, new.previous_reps) == (BOB, "offered", [ALICE])
    assert (await posts(services))[-1].payload["user"] == "U0BOB00001"
    assert {t.handoff_id for t in await rows(services, Timer, Timer.status == "pending")} == {new.id}
    (event,) = await rows(services, AuditEvent, AuditEvent.action == "lead.reassigned")
    assert event.actor == MORGAN


async def test_the_manager_takes_over_and_owns_the_lead(services: Services) -> None:
    data = await offer(services)
    outcome = await take_over(services, data, MORGAN, source="test")
    assert outcome.ok
    (handoff,) = await rows(services, Handoff)
    (lead,) = await rows(services, Lead)
    assert (handoff.state, handoff.decided_by) == ("accepted", MORGAN)
    assert (lead.stage, lead.owner) == ("sal", MORGAN)
    assert await rows(services, Timer, Timer.status == "pending") == []


async def test_a_finished_lead_gets_a_polite_refusal(services: Services) -> None:
    data = await offer(services)
    await simulate_acceptance(services, data.handoff_id)
    before = await snapshot(services)
    outcome = await reassign(services, data, MORGAN, BOB, source="test")
    assert outcome.code == "already_taken" and outcome.message == "Already accepted by Alice Example."
    assert await snapshot(services) == before


async def test_reassigning_to_someone_outside_the_team_is_refused(services: Services) -> None:
    data = await offer(services)
    before = await snapshot(services)
    outcome = await reassign(services, data, MORGAN, "clara@example.com", source="test")
    assert outcome.code == "invalid" and outcome.message == "clara@example.com is not a rep of team enterprise."
    assert await snapshot(services) == before


async def test_reassigning_to_a_rep_who_is_out_of_office_is_refused(services: Services) -> None:
    data = await offer(services)
    await set_out_of_office(services, BOB, True, source="test")
    outcome = await reassign(services, data, MORGAN, BOB, source="test")
    assert outcome.code == "invalid" and outcome.message == "Bob Example is out of office."


async def test_a_forged_button_is_not_found(services: Services) -> None:
    data = await offer(services)
    outcome = await take_over(
        services, ButtonData(lead_id=data.lead_id, handoff_id=data.handoff_id + 7), MORGAN, source="test"
    )
    assert outcome.code == "not_found"
