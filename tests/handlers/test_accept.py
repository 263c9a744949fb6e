"""Accepting an offer: one owner, whatever races; the right people only."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from handlers.clock import ManualClock
from handlers.handoff.accept import accept
from handlers.services import Services
from handlers.views import load_view
from handlers.views.actions import ButtonData
from store.models import AuditEvent, Handoff, Lead, OutboxMessage, Timer


async def test_the_offered_rep_accepts_and_the_lead_becomes_a_sal(
    services: Services, alice_offer: ButtonData, clock: ManualClock
) -> None:
    clock.advance(timedelta(minutes=3))
    outcome = await accept(services, alice_offer, "alice@example.com", source="test")
    assert outcome.ok
    async with services.db.transaction() as session:
        lead = await session.get(Lead, alice_offer.lead_id)
        handoff = await session.get(Handoff, alice_offer.handoff_id)
    assert lead is not None and handoff is not None
    assert lead.stage == "sal" and lead.owner == "alice@example.com" and handoff.state == "accepted"


async def test_acceptance_updates_the_card_for_everyone(
    services: Services, alice_offer: ButtonData, clock: ManualClock
) -> None:
    clock.advance(timedelta(minutes=3))
    await accept(services, alice_offer, "alice@example.com", source="test")
    async with services.db.transaction() as session:
        update = (await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "update"))).one()
    card = load_view(update.payload["view"])
    assert card.status == "accepted" and card.status_by.email == "alice@example.com"  # type: ignore[attr-defined]
    assert card.status_text == "at 10:03 EST, 3 min after offer"  # type: ignore[attr-defined]
    assert [b.label for b in card.buttons] == ["Log call", "Log email", "Meeting booked", "Unreachable"]  # type: ignore[attr-defined]


async def test_racing_accepts_yield_exactly_one_owner(services: Services, emea_offer: ButtonData) -> None:
    clicks = [
        accept(services, emea_offer, rep, source="test") for rep in ["clara@example.com", "david@example.com"] * 10
    ]
    outcomes = await asyncio.gather(*clicks)
    assert sum(o.ok for o in outcomes) == 1
    assert {o.code for o in outcomes if not o.ok} == {"already_taken"}
    async with services.db.transaction() as session:
        accepted = (await session.scalars(select(AuditEvent).where(AuditEvent.action == "lead.accepted"))).all()
        updates = (await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "update"))).all()
    assert len(accepted) == 1 and len(updates) == 1


async def test_a_repeated_click_by_the_owner_changes_nothing(services: Services, alice_offer: ButtonData) -> None:
    await accept(services, alice_offer, "alice@example.com", source="test")
    again = await accept(services, alice_offer, "alice@example.com", source="test")
    assert not again.ok and again.message == "Already accepted by you."


async def test_someone_else_is_told_who_accepted(services: Services, emea_offer: ButtonData) -> None:
    await accept(services, emea_offer, "clara@example.com", source="test")
    late = await accept(services, emea_offer, "david@example.com", source="test")
    assert late.code == "already_taken" and late.message == "Already accepted by Clara Example."


async def test_a_rep_who_was_not_offered_the_lead_is_refused(services: Services, alice_offer: ButtonData) -> None:
    outcome = await accept(services, alice_offer, "bob@example.com", source="test")
    assert outcome.code == "not_allowed" and "Alice Example" in outcome.message
    async with services.db.transaction() as session:
        handoff = await session.get(Handoff, alice_offer.handoff_id)
    assert handoff is not None and handoff.state == "offered"


async def test_a_rep_of_another_team_cannot_claim_a_channel_offer(services: Services, emea_offer: ButtonData) -> None:
    outcome = await accept(services, emea_offer, "alice@example.com", source="test")
    assert outcome.code == "not_allowed" and "emea" in outcome.message


async def test_a_button_for_another_lead_is_not_found(services: Services, alice_offer: ButtonData) -> None:
    forged = ButtonData(lead_id=alice_offer.lead_id + 100, handoff_id=alice_offer.handoff_id)
    outcome = await accept(services, forged, "alice@example.com", source="test")
    assert outcome.code == "not_found"


async def test_acceptance_stops_the_accept_sla_and_starts_first_touch(
    services: Services, alice_offer: ButtonData
) -> None:
    await accept(services, alice_offer, "alice@example.com", source="test")
    async with services.db.transaction() as session:
        timers = {(t.chain, t.status) for t in (await session.scalars(select(Timer))).all()}
    assert {("accept", "cancelled"), ("first_touch", "pending")} <= timers
    assert ("accept", "pending") not in timers
