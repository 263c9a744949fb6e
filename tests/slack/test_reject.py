"""Reject from Slack: the modal opens at once, field errors show in it, feedback reaches marketing."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from handlers.views.actions import Action, ButtonData
from store.models import Feedback, Lead
from tests.slack.conftest import ALICE, BOB, MARKETING_CHANNEL, SlackDriver, offer


async def open_form(slack: SlackDriver, user: str, data: ButtonData) -> dict[str, Any]:
    await slack.click(user, Action.REJECT, data.pack())
    (opened,) = slack.fake.calls_to("views.open")
    (update,) = slack.fake.calls_to("views.update")
    assert update.body["view_id"] == "V00000001"
    return {"id": "V00000001", **update.body["view"]}


async def test_reject_opens_the_modal_right_after_the_click_with_the_agreed_reasons(slack: SlackDriver) -> None:
    data = await offer(slack.runtime)
    view = await open_form(slack, ALICE, data)
    (opened,) = slack.fake.calls_to("views.open")
    assert opened.body["trigger_id"].startswith("trigger-")
    assert slack.fake.calls.index(opened) < slack.fake.calls.index(slack.fake.calls_to("views.update")[0])
    reasons = [o["value"] for o in view["blocks"][1]["element"]["options"]]
    assert reasons[:3] == ["unable_to_reach", "inaccurate_data", "no_need"] and len(reasons) == 9
    assert json.loads(view["private_metadata"])["value"] == data.pack()


async def test_a_reason_that_needs_a_note_is_refused_in_the_modal_without_one(slack: SlackDriver) -> None:
    data = await offer(slack.runtime)
    view = await open_form(slack, ALICE, data)
    response = await slack.submit(ALICE, view, "no_fit", None)
    answer = response.json()
    assert answer["response_action"] == "errors" and "A note is required" in answer["errors"]["note"]
    async with slack.runtime.db.transaction() as session:
        lead = await session.get(Lead, data.lead_id)
        assert lead is not None and lead.stage == "mql"
        assert not (await session.scalars(select(Feedback))).all()


async def test_a_submission_without_a_reason_shows_the_error_on_the_reason(slack: SlackDriver) -> None:
    data = await offer(slack.runtime)
    view = await open_form(slack, ALICE, data)
    answer = (await slack.submit(ALICE, view, None, "hello")).json()
    assert answer == {"response_action": "errors", "errors": {"reason": "Choose a reason."}}


async def test_rejecting_with_a_note_records_feedback_and_tells_marketing(slack: SlackDriver) -> None:
    data = await offer(slack.runtime, source="webinar", campaign="Q4 pipeline webinar")
    await slack.deliver()
    view = await open_form(slack, ALICE, data)
    response = await slack.submit(ALICE, view, "no_fit", "Reseller, not an end customer")
    assert response.status == 200 and not response.text
    async with slack.runtime.db.transaction() as session:
        lead = await session.get(Lead, data.lead_id)
        feedback = (await session.scalars(select(Feedback))).one()
    assert lead is not None and lead.stage == "disqualified"
    assert (feedback.reason, feedback.note, feedback.rep) == (
        "no_fit",
        "Reseller, not an end customer",
        "alice@example.com",
    )
    await slack.deliver()
    (to_marketing,) = [c for c in slack.fake.calls_to("chat.postMessage") if c.body["channel"] == MARKETING_CHANNEL]
    text = str(to_marketing.body["blocks"])
    assert "No fit (size, title, geography)" in text and "Reseller, not an end customer" in text
    assert "<@U0ALICE001>" in text and "Q4 pipeline webinar" in text
    (update,) = slack.fake.calls_to("chat.update")
    assert "*Rejected* by <@U0ALICE001>" in str(update.body["blocks"])
    (ephemeral,) = slack.fake.calls_to("chat.postEphemeral")
    assert ephemeral.body["user"] == ALICE and "Marketing has your feedback" in ephemeral.body["text"]


async def test_someone_else_gets_the_refusal_in_the_modal(slack: SlackDriver) -> None:
    data = await offer(slack.runtime)
    await slack.click(BOB, Action.REJECT, data.pack())
    (update,) = slack.fake.calls_to("views.update")
    assert update.body["view"]["title"]["text"] == "Can't reject"
    assert "only they can accept or reject it" in str(update.body["view"]["blocks"])


async def test_a_forged_reject_button_never_opens_a_modal(slack: SlackDriver) -> None:
    await slack.click(ALICE, Action.REJECT, "not-a-baton-value")
    assert not slack.fake.calls_to("views.open") and "isn't one I recognise" in slack.last_answer()


async def test_submitting_after_someone_else_acted_updates_the_modal_with_why(slack: SlackDriver) -> None:
    data = await offer(slack.runtime)
    view = await open_form(slack, ALICE, data)
    await slack.click(ALICE, Action.ACCEPT, data.pack())
    answer = (await slack.submit(ALICE, view, "no_need", None)).json()
    assert answer["response_action"] == "update" and "Already accepted by you" in str(answer["view"]["blocks"])
