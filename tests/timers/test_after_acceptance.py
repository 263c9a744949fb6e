"""After acceptance: the first-touch SLA and the cadence check at the end of its window."""

from __future__ import annotations

from datetime import timedelta

from handlers.clock import ManualClock
from handlers.followup import sla
from handlers.followup.cadence import cadence_met
from handlers.followup.timers import sweep
from handlers.services import Services
from handlers.views.actions import ButtonData
from scoring.agreement import Stage
from store.models import AuditEvent, Handoff, HandoffState, Lead, Timer, Touch
from tests.timers.conftest import at, offer, posts, rows

ALICE = "alice@example.com"


async def accept_now(services: Services, data: ButtonData) -> None:
    """What Accept does to the store, so these tests do not depend on its messages."""
    async with services.db.transaction() as session:
        handoff = await session.get(Handoff, data.handoff_id)
        lead = await session.get(Lead, data.lead_id)
        assert handoff is not None and lead is not None
        now = services.clock.now()
        handoff.state, handoff.fence, handoff.decided_at, handoff.decided_by = (
            HandoffState.ACCEPTED,
            handoff.fence + 1,
            now,
            ALICE,
        )
        lead.stage, lead.owner, lead.accepted_at = Stage.SAL, ALICE, now
        await sla.cancel_timers(session, handoff.id, "accept")
        await sla.start_chain(session, services, handoff, "first_touch", now)


async def log(services: Services, data: ButtonData, *kinds: str) -> None:
    async with services.db.transaction() as session:
        lead = await session.get(Lead, data.lead_id)
        assert lead is not None
        for kind in kinds:
            session.add(Touch(lead_id=lead.id, rep=ALICE, kind=kind, created_at=services.clock.now()))
        lead.first_touch_at = lead.first_touch_at or services.clock.now()


async def test_acceptance_schedules_first_touch_and_the_cadence_check(services: Services) -> None:
    data = await offer(services)
    await accept_now(services, data)
    pending = await rows(services, Timer, Timer.status == "pending", order=Timer.id)
    assert [(t.chain, t.due_at - services.clock.now()) for t in pending] == [
        ("first_touch", timedelta(hours=4)),
        ("cadence", timedelta(days=14)),
    ]


async def test_no_touch_within_four_working_hours_nudges_the_owner(services: Services, clock: ManualClock) -> None:
    data = await offer(services)
    await accept_now(services, data)
    at(clock, "14:00")
    assert await sweep(services) == 1
    nudge = (await posts(services))[-1]
    assert nudge.payload["user"] == "U0ALICE001"
    assert nudge.payload["view"]["title"].startswith("Reminder: first touch for")


async def test_a_logged_touch_stops_the_first_touch_chain(services: Services, clock: ManualClock) -> None:
    data = await offer(services)
    await accept_now(services, data)
    await log(services, data, "call")
    at(clock, "14:00")
    await sweep(services)
    assert await rows(services, AuditEvent, AuditEvent.action == "sla.nudged") == []


async def test_too_few_touches_at_the_end_of_the_window_escalate_to_the_manager(
    services: Services, clock: ManualClock
) -> None:
    data = await offer(services)
    await accept_now(services, data)
    await log(services, data, "call")
    clock.advance(timedelta(days=14))
    await sweep(services)
    (escalated,) = await rows(services, AuditEvent, AuditEvent.action == "sla.escalated")
    assert escalated.after is not None and escalated.after["chain"] == "cadence"
    assert "1 of 3 calls and 0 of 3 emails logged" in escalated.after["note"]
    assert {p.payload.get("user") or p.payload.get("channel") for p in (await posts(services))[-2:]} == {
        "U0MANAGER1",
        "C0SALESMGRS",
    }


async def test_a_met_cadence_escalates_nothing(services: Services, clock: ManualClock) -> None:
    data = await offer(services)
    await accept_now(services, data)
    await log(services, data, "call", "call", "call", "email", "email", "email")
    clock.advance(timedelta(days=14))
    await sweep(services)
    (cadence,) = await rows(services, Timer, Timer.chain == "cadence")
    assert cadence.status == "fired"
    assert await rows(services, AuditEvent, AuditEvent.action == "sla.escalated") == []


async def test_cadence_met_reports_progress_against_the_frozen_policy(services: Services) -> None:
    data = await offer(services)
    await accept_now(services, data)
    await log(services, data, "call", "call", "email", "email", "email", "meeting")
    async with services.db.transaction() as session:
        lead, handoff = await session.get(Lead, data.lead_id), await session.get(Handoff, data.handoff_id)
        assert lead is not None and handoff is not None
        short = await cadence_met(session, services.agreement, lead, handoff)
        session.add(Touch(lead_id=lead.id, rep=ALICE, kind="call", created_at=services.clock.now()))
        await session.flush()
        met = await cadence_met(session, services.agreement, lead, handoff)
    assert short == (False, "2 of 3 calls and 3 of 3 emails logged")
    assert met == (True, "3 of 3 calls and 3 of 3 emails logged")


async def test_touches_before_acceptance_do_not_count_towards_the_cadence(
    services: Services, clock: ManualClock
) -> None:
    data = await offer(services)
    await log(services, data, "call", "call", "call", "email", "email", "email")
    clock.advance(timedelta(minutes=1))
    await accept_now(services, data)
    async with services.db.transaction() as session:
        lead, handoff = await session.get(Lead, data.lead_id), await session.get(Handoff, data.handoff_id)
        assert lead is not None and handoff is not None
        met, progress = await cadence_met(session, services.agreement, lead, handoff)
    assert not met and progress == "0 of 3 calls and 0 of 3 emails logged"
