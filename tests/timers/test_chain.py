"""The accept SLA chain fired by sweeps: nudge → escalate → reassign → channel, and what stops it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import update

from handlers.clock import ManualClock
from handlers.followup.timers import sweep
from handlers.handoff.cards import card_key
from handlers.services import Services
from handlers.views import load_view
from handlers.views.actions import Action
from handlers.views.notice import Notice
from scoring.agreement_check import load_agreement
from store.db import Database
from store.models import AuditEvent, Handoff, OutboxMessage, Timer
from tests.factories import agreement_data
from tests.timers.conftest import actions, at, offer, posts, rows, simulate_acceptance

ALICE, BOB = "alice@example.com", "bob@example.com"


def target(message: OutboxMessage) -> str:
    return str(message.payload.get("user") or message.payload.get("channel"))


async def run_chain(services: Services, clock: ManualClock) -> None:
    """Alice's 15m/30m/1h steps, then Bob's, sweeping at each due time (New York)."""
    for hh_mm in ("10:15", "10:30", "11:00", "11:15", "11:30", "12:00"):
        at(clock, hh_mm)
        assert await sweep(services) == 1, hh_mm


async def test_the_whole_chain_ends_with_the_lead_offered_in_the_managers_channel(
    services: Services, clock: ManualClock
) -> None:
    await offer(services)
    await run_chain(services, clock)
    handoffs = await rows(services, Handoff, order=Handoff.id)
    assert [(h.rep, h.mode, h.state) for h in handoffs] == [
        (ALICE, "direct", "reassigned"),
        (BOB, "direct", "reassigned"),
        (None, "none", "offered"),
    ]
    assert handoffs[1].previous_reps == [ALICE] and handoffs[2].previous_reps == [ALICE, BOB]
    sent = [(target(m), m.payload["view"]["type"]) for m in await posts(services)]
    assert sent == [
        ("U0ALICE001", "lead_card"),
        ("U0ALICE001", "notice"),
        ("U0MANAGER1", "notice"),
        ("C0SALESMGRS", "notice"),
        ("U0BOB00001", "lead_card"),
        ("U0BOB00001", "notice"),
        ("U0MANAGER1", "notice"),
        ("C0SALESMGRS", "notice"),
        ("C0SALESMGRS", "lead_card"),
    ]
    assert await actions(services) == [
        "lead.captured",
        "lead.qualified",
        "lead.offered",
        "sla.nudged",
        "sla.escalated",
        "lead.offered",
        "lead.reassigned",
        "sla.nudged",
        "sla.escalated",
        "lead.offered",
        "lead.reassigned",
    ]


async def test_the_nudge_is_a_dm_to_the_rep_linking_to_the_card(services: Services, clock: ManualClock) -> None:
    data = await offer(services)
    at(clock, "10:15")
    await sweep(services)
    nudge = load_view((await posts(services))[-1].payload["view"])
    assert isinstance(nudge, Notice) and nudge.mention is not None and nudge.mention.email == ALICE
    assert nudge.link_key == f"lead:{data.lead_id}:card:{data.handoff_id}"
    assert "The SLA deadline is Mon 10:30 EST" in nudge.lines[0]


async def test_the_escalation_offers_reassign_to_the_other_reps_and_take_over(
    services: Services, clock: ManualClock
) -> None:
    data = await offer(services)
    for hh_mm in ("10:15", "10:30"):
        at(clock, hh_mm)
        await sweep(services)
    escalation = load_view((await posts(services))[-1].payload["view"])
    assert isinstance(escalation, Notice)
    reassign, take_over = escalation.buttons
    assert reassign.action is Action.REASSIGN and [c.value for c in reassign.choices] == [BOB]
    assert take_over.action is Action.TAKE_OVER and take_over.value == data.pack()


async def test_every_step_updates_the_card_with_its_history(services: Services, clock: ManualClock) -> None:
    data = await offer(services)
    await run_chain(services, clock)
    key = card_key(Handoff(lead_id=data.lead_id, id=data.handoff_id))
    last = (
        await rows(
            services,
            OutboxMessage,
            OutboxMessage.message_key == key,
            OutboxMessage.kind == "update",
            order=OutboxMessage.id,
        )
    )[-1]
    card: Any = load_view(last.payload["view"])
    assert card.status == "reassigned"
    assert [n.split(":")[0].split(" (")[0] for n in card.notes] == [
        "Reminder sent",
        "Escalated to the manager",
        "Reassigned",
    ]


async def test_an_exhausted_lead_goes_to_the_team_channel_when_the_team_has_one(
    db: Database, clock: ManualClock
) -> None:
    data = agreement_data()
    data["teams"][0]["channel"] = {"slack": "C0ENTERPRISE"}
    services = Services(db=db, agreement=load_agreement(data), clock=clock)
    await offer(services)
    await run_chain(services, clock)
    last = (await rows(services, Handoff, order=Handoff.id))[-1]
    assert (last.rep, last.mode, last.state) == (None, "channel", "offered")
    assert target((await posts(services))[-1]) == "C0ENTERPRISE"


async def test_acceptance_between_steps_stops_the_chain(services: Services, clock: ManualClock) -> None:
    data = await offer(services)
    at(clock, "10:15")
    await sweep(services)
    await simulate_acceptance(services, data.handoff_id)
    before = len(await posts(services))
    at(clock, "12:00")
    assert await sweep(services) == 1  # the escalation timer, cancelled as stale
    assert len(await posts(services)) == before
    assert "sla.escalated" not in await actions(services)
    assert {t.status for t in await rows(services, Timer, Timer.chain == "accept")} == {"fired", "cancelled"}


async def test_a_timer_with_a_stale_fence_does_nothing(services: Services, clock: ManualClock) -> None:
    data = await offer(services)
    async with services.db.transaction() as session:
        await session.execute(update(Handoff).where(Handoff.id == data.handoff_id).values(fence=Handoff.fence + 1))
    at(clock, "10:15")
    await sweep(services)
    (timer,) = await rows(services, Timer)
    assert timer.status == "cancelled"
    assert await rows(services, AuditEvent, AuditEvent.action == "sla.nudged") == []


async def test_a_config_edit_after_the_offer_does_not_change_a_running_escalation(
    services: Services, clock: ManualClock
) -> None:
    await offer(services)
    data = agreement_data()
    data["sla"]["policies"]["standard"]["accept"] = [{"after": "5m", "action": "escalate"}]
    services.agreement = load_agreement(data)
    at(clock, "10:05")
    assert await sweep(services) == 0
    at(clock, "10:15")
    await sweep(services)
    assert (await actions(services))[-1] == "sla.nudged"


async def test_a_restart_between_offer_and_due_time_fires_the_step_once(
    services: Services, clock: ManualClock, database_url: str
) -> None:
    await offer(services)
    await services.db.dispose()
    at(clock, "10:20")  # overdue by five minutes when the new process starts
    restarted = Services(db=Database(database_url), agreement=services.agreement, clock=clock)
    try:
        assert await sweep(restarted) == 1
        assert await sweep(restarted) == 0
    finally:
        await restarted.db.dispose()
    assert (await actions(services)).count("sla.nudged") == 1


async def test_a_hot_lead_runs_on_the_tight_wall_clock_policy(services: Services, clock: ManualClock) -> None:
    await offer(services, activities=[{"type": "demo_request"}])
    (handoff,) = await rows(services, Handoff)
    assert handoff.policy["name"] == "hot"
    clock.advance(timedelta(minutes=5))
    assert await sweep(services) == 1
    (_, pending) = await rows(services, Timer, order=Timer.id)
    assert pending.due_at - handoff.offered_at == timedelta(minutes=10)
