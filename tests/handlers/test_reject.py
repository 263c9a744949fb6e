"""Rejecting an offer: a reason (and note where required), feedback to marketing, the right stage."""

from __future__ import annotations

from sqlalchemy import select

from handlers.handoff.reject import reject, reject_form
from handlers.services import Services
from handlers.views import load_view
from handlers.views.actions import ButtonData
from handlers.views.reject_form import RejectForm
from store.models import Feedback, Lead, OutboxMessage


async def test_the_form_lists_the_agreed_reasons_and_which_need_a_note(
    services: Services, alice_offer: ButtonData
) -> None:
    form = await reject_form(services, alice_offer, "alice@example.com")
    assert isinstance(form, RejectForm)
    assert [c.value for c in form.reasons][:3] == ["unable_to_reach", "inaccurate_data", "no_need"]
    assert set(form.note_required) == {"unable_to_reach", "inaccurate_data", "no_fit"}


async def test_the_form_is_refused_to_someone_else(services: Services, alice_offer: ButtonData) -> None:
    refusal = await reject_form(services, alice_offer, "bob@example.com")
    assert not isinstance(refusal, RejectForm) and refusal.code == "not_allowed"


async def test_a_recycle_reason_sends_the_lead_back_to_nurture(services: Services, alice_offer: ButtonData) -> None:
    result = await reject(services, alice_offer, "alice@example.com", "no_budget", None, source="test")
    assert result.ok
    async with services.db.transaction() as session:
        lead = await session.get(Lead, alice_offer.lead_id)
        feedback = (await session.scalars(select(Feedback))).one()
    assert lead is not None and lead.stage == "recycled" and feedback.reason == "no_budget"


async def test_a_disqualify_reason_disqualifies(services: Services, alice_offer: ButtonData) -> None:
    await reject(services, alice_offer, "alice@example.com", "competitor", None, source="test")
    async with services.db.transaction() as session:
        lead = await session.get(Lead, alice_offer.lead_id)
    assert lead is not None and lead.stage == "disqualified"


async def test_a_required_note_that_is_missing_is_a_form_error_and_changes_nothing(
    services: Services, alice_offer: ButtonData
) -> None:
    result = await reject(services, alice_offer, "alice@example.com", "no_fit", "  ", source="test")
    assert not result.ok and "note" in result.errors
    async with services.db.transaction() as session:
        lead = await session.get(Lead, alice_offer.lead_id)
        assert (await session.scalars(select(Feedback))).first() is None
    assert lead is not None and lead.stage == "mql"


async def test_an_unknown_reason_is_a_form_error(services: Services, alice_offer: ButtonData) -> None:
    result = await reject(services, alice_offer, "alice@example.com", "bored", None, source="test")
    assert result.errors == {"reason": "'bored' is not one of the agreed rejection reasons."}


async def test_marketing_receives_the_reason_and_note(services: Services, alice_offer: ButtonData) -> None:
    await reject(services, alice_offer, "alice@example.com", "no_fit", "Only 3 people in sales", source="test")
    async with services.db.transaction() as session:
        posted = (
            await session.scalars(select(OutboxMessage).where(OutboxMessage.message_key.like("feedback:%")))
        ).one()
    assert posted.payload["channel"] == "C0MKTGFEEDBK"
    notice = load_view(posted.payload["view"])
    fields = {f.label: f.value for f in notice.fields}  # type: ignore[attr-defined]
    assert fields["Reason"] == "No fit (size, title, geography)" and fields["Note"] == "Only 3 people in sales"


async def test_a_rejected_offer_cannot_be_rejected_again(services: Services, alice_offer: ButtonData) -> None:
    await reject(services, alice_offer, "alice@example.com", "no_budget", None, source="test")
    again = await reject(services, alice_offer, "alice@example.com", "no_need", None, source="test")
    assert not again.ok and "Already rejected" in again.message
