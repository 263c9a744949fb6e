"""After acceptance: touches, meetings (SQL) and only the owner may log them."""

from __future__ import annotations

from sqlalchemy import select

from handlers.handoff.accept import accept
from handlers.handoff.touch import log_touch
from handlers.services import Services
from handlers.views.actions import Action, ButtonData
from store.models import AuditEvent, Lead, OutboxMessage, Timer, Touch


async def accepted(services: Services, offer: ButtonData) -> ButtonData:
    assert (await accept(services, offer, "alice@example.com", source="test")).ok
    return offer


async def test_logging_a_call_records_the_first_touch_and_stops_its_sla(
    services: Services, alice_offer: ButtonData
) -> None:
    data = await accepted(services, alice_offer)
    outcome = await log_touch(services, data, "alice@example.com", Action.LOG_CALL, source="test")
    assert outcome.ok and outcome.message == "Logged a call."
    async with services.db.transaction() as session:
        lead = await session.get(Lead, data.lead_id)
        touch = (await session.scalars(select(Touch))).one()
        first_touch = (await session.scalars(select(Timer).where(Timer.chain == "first_touch"))).one()
    assert lead is not None and lead.first_touch_at is not None and touch.kind == "call"
    assert first_touch.status == "cancelled"


async def test_meeting_booked_makes_the_lead_an_sql(services: Services, alice_offer: ButtonData) -> None:
    data = await accepted(services, alice_offer)
    await log_touch(services, data, "alice@example.com", Action.MEETING_BOOKED, source="test")
    async with services.db.transaction() as session:
        lead = await session.get(Lead, data.lead_id)
        actions = (await session.scalars(select(AuditEvent.action))).all()
    assert lead is not None and lead.stage == "sql" and lead.sql_at is not None
    assert "lead.sql" in actions


async def test_only_the_owner_may_log_touches(services: Services, alice_offer: ButtonData) -> None:
    data = await accepted(services, alice_offer)
    outcome = await log_touch(services, data, "bob@example.com", Action.LOG_EMAIL, source="test")
    assert outcome.code == "not_allowed" and "Alice Example" in outcome.message


async def test_the_team_manager_may_log_touches(services: Services, alice_offer: ButtonData) -> None:
    data = await accepted(services, alice_offer)
    outcome = await log_touch(services, data, "morgan.manager@example.com", Action.LOG_EMAIL, source="test")
    assert outcome.ok


async def test_touches_before_acceptance_are_refused(services: Services, alice_offer: ButtonData) -> None:
    outcome = await log_touch(services, alice_offer, "alice@example.com", Action.LOG_CALL, source="test")
    assert outcome.code == "finished"


async def test_unreachable_is_refused_before_the_agreed_attempts(services: Services, alice_offer: ButtonData) -> None:
    data = await accepted(services, alice_offer)
    await log_touch(services, data, "alice@example.com", Action.LOG_CALL, source="test")
    outcome = await log_touch(services, data, "alice@example.com", Action.UNREACHABLE, source="test")
    assert outcome.code == "invalid" and "1 of 3 calls" in outcome.message
    async with services.db.transaction() as session:
        lead = await session.get(Lead, data.lead_id)
    assert lead is not None and lead.stage == "sal"


async def test_unreachable_after_the_agreed_attempts_goes_to_nurture_and_tells_marketing(
    services: Services, alice_offer: ButtonData
) -> None:
    data = await accepted(services, alice_offer)
    for action in [Action.LOG_CALL, Action.LOG_EMAIL] * 3:
        await log_touch(services, data, "alice@example.com", action, source="test")
    outcome = await log_touch(services, data, "alice@example.com", Action.UNREACHABLE, source="test")
    assert outcome.ok
    async with services.db.transaction() as session:
        lead = await session.get(Lead, data.lead_id)
        notice = (
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.message_key == f"unreachable:{data.lead_id}")
            )
        ).one()
    assert lead is not None and lead.stage == "unreachable" and lead.finished_at is not None
    assert notice.payload["channel"] == "C0MKTGFEEDBK"
