"""Out of office: routing skips the rep and their open offers move on."""

from __future__ import annotations

from handlers.clock import ManualClock
from handlers.followup.timers import sweep
from handlers.handoff.ooo import set_out_of_office
from handlers.services import Services
from handlers.text.routing import routing_words
from store.models import Handoff, Lead, RepState
from tests.timers.conftest import at, offer, rows

ALICE, BOB = "alice@example.com", "bob@example.com"


async def test_turning_it_on_sets_the_flag_and_routing_skips_the_rep(services: Services) -> None:
    outcome = await set_out_of_office(services, "Alice@Example.com", True, source="test")
    assert outcome.ok and outcome.message == "You are out of office: new leads go to your teammates."
    (state,) = await rows(services, RepState, RepState.email == ALICE)
    assert state.out_of_office
    await offer(services)
    (handoff,) = await rows(services, Handoff)
    assert handoff.rep == BOB


async def test_turning_it_on_moves_the_open_offers_to_another_rep(services: Services) -> None:
    await offer(services)
    outcome = await set_out_of_office(services, ALICE, True, source="test")
    assert outcome.message.endswith("1 open offer moved to other reps.")
    old, new = await rows(services, Handoff, order=Handoff.id)
    assert (old.rep, old.state) == (ALICE, "reassigned")
    assert (new.rep, new.state, new.previous_reps) == (BOB, "offered", [ALICE])


async def test_a_reassignment_step_skips_a_rep_who_is_out_of_office(services: Services, clock: ManualClock) -> None:
    await set_out_of_office(services, BOB, True, source="test")
    await offer(services)
    at(clock, "11:00")
    assert await sweep(services) == 3  # nudge, escalation and reassignment, all due by now
    _, new = await rows(services, Handoff, order=Handoff.id)
    assert (new.rep, new.mode) == (None, "none")
    (lead,) = await rows(services, Lead)
    routing = routing_words(lead.routing)
    assert routing is not None and {"email": BOB, "reason": "out of office"} in routing["skipped"]


async def test_turning_it_off_brings_the_rep_back(services: Services) -> None:
    await set_out_of_office(services, ALICE, True, source="test")
    outcome = await set_out_of_office(services, ALICE, False, source="test")
    assert outcome.message == "Welcome back: you will receive new leads again."
    await offer(services)
    (handoff,) = await rows(services, Handoff)
    assert handoff.rep == ALICE


async def test_someone_who_is_not_a_rep_is_told_so(services: Services) -> None:
    outcome = await set_out_of_office(services, "stranger@example.com", True, source="test")
    assert outcome.code == "not_found" and "stranger@example.com is not a rep" in outcome.message
