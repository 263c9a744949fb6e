"""Accept and Claim from Slack: one owner however many clicks race; the right people only."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from handlers.views.actions import Action
from store.models import AuditEvent, Handoff, Lead
from tests.slack.conftest import ALICE, BOB, CLARA, DAVID, EMEA_CHANNEL, SlackDriver, offer


async def _lead(slack: SlackDriver, lead_id: int) -> Lead:
    async with slack.runtime.db.transaction() as session:
        lead = await session.get(Lead, lead_id)
    assert lead is not None
    return lead


async def test_accepting_makes_a_sal_and_updates_the_card_for_everyone(slack: SlackDriver) -> None:
    data = await offer(slack.runtime)
    await slack.deliver()
    slack.runtime.clock.advance(timedelta(minutes=3))  # type: ignore[attr-defined]
    response = await slack.click(ALICE, Action.ACCEPT, data.pack())
    assert response.status == 200
    assert "You accepted" in slack.last_answer()
    assert slack.fake.responses[-1].body["response_type"] == "ephemeral"
    await slack.deliver()
    (update,) = slack.fake.calls_to("chat.update")
    assert (update.body["channel"], update.body["ts"]) == ("D0ALICE001", "1764000000.000001")
    text = str(update.body["blocks"])
    assert "*Accepted* by <@U0ALICE001> at 10:03 EST, 3 min after offer" in text
    assert "baton:log_call" in text and "baton:accept" not in text
    lead = await _lead(slack, data.lead_id)
    assert lead.stage == "sal" and lead.owner == "alice@example.com"


async def test_racing_claims_from_many_reps_yield_one_owner_and_one_card_update(slack: SlackDriver) -> None:
    data = await offer(slack.runtime, country="DE")
    await slack.deliver()
    payloads = [
        slack.click_payload(user, Action.CLAIM, data.pack(), channel=EMEA_CHANNEL) for user in [CLARA, DAVID] * 10
    ]
    responses = await asyncio.gather(*(slack.interact(p) for p in payloads))
    await slack.component.idle(10)
    assert [r.status for r in responses] == [200] * 20
    await slack.deliver()
    assert len(slack.fake.calls_to("chat.update")) == 1
    async with slack.runtime.db.transaction() as session:
        accepted = (await session.scalars(select(AuditEvent).where(AuditEvent.action == "lead.accepted"))).all()
        handoff = await session.get(Handoff, data.handoff_id)
    assert len(accepted) == 1 and handoff is not None and handoff.state == "accepted"
    answers = [r.body["text"] for r in slack.fake.responses]
    assert len(answers) == 20 and sum("You accepted" in a for a in answers) == 1
    assert all("Already accepted by" in a for a in answers if "You accepted" not in a)


async def test_a_double_click_by_the_offered_rep_accepts_once(slack: SlackDriver) -> None:
    data = await offer(slack.runtime)
    await slack.deliver()
    payloads = [slack.click_payload(ALICE, Action.ACCEPT, data.pack()) for _ in range(20)]
    await asyncio.gather(*(slack.interact(p) for p in payloads))
    await slack.component.idle(10)
    await slack.deliver()
    assert len(slack.fake.calls_to("chat.update")) == 1
    assert sum("You accepted" in str(r.body["text"]) for r in slack.fake.responses) == 1


async def test_a_rep_of_another_team_is_refused_and_nothing_changes(slack: SlackDriver) -> None:
    data = await offer(slack.runtime, country="DE")
    await slack.deliver()
    await slack.click(BOB, Action.CLAIM, data.pack(), channel=EMEA_CHANNEL)
    assert "only its reps can take it" in slack.last_answer()
    assert slack.fake.responses[-1].body["response_type"] == "ephemeral"
    assert await slack.deliver() == 0 and not slack.fake.calls_to("chat.update")
    assert (await _lead(slack, data.lead_id)).stage == "mql"


async def test_another_rep_cannot_accept_a_direct_offer(slack: SlackDriver) -> None:
    data = await offer(slack.runtime)
    await slack.click(BOB, Action.ACCEPT, data.pack())
    assert "only they can accept or reject it" in slack.last_answer()
    assert (await _lead(slack, data.lead_id)).owner is None


async def test_a_forged_button_value_gets_a_polite_answer_and_changes_nothing(slack: SlackDriver) -> None:
    data = await offer(slack.runtime)
    await slack.click(ALICE, Action.ACCEPT, "v1:1:1; DROP TABLE leads")
    assert "isn't one I recognise" in slack.last_answer()
    assert (await _lead(slack, data.lead_id)).stage == "mql"


async def test_a_button_for_an_unknown_lead_gets_a_polite_answer(slack: SlackDriver) -> None:
    await slack.click(ALICE, Action.ACCEPT, "v1:999:999")
    assert "can't find that lead" in slack.last_answer()


async def test_a_slack_user_not_in_the_agreement_is_told_how_to_get_added(slack: SlackDriver) -> None:
    data = await offer(slack.runtime)
    await slack.click("U0STRANGER", Action.ACCEPT, data.pack())
    assert "not in Baton's configuration" in slack.last_answer() and "U0STRANGER" in slack.last_answer()
    assert (await _lead(slack, data.lead_id)).stage == "mql"


async def test_after_acceptance_meeting_booked_makes_the_lead_an_sql(slack: SlackDriver) -> None:
    data = await offer(slack.runtime)
    await slack.click(ALICE, Action.ACCEPT, data.pack())
    await slack.click(ALICE, Action.MEETING_BOOKED, data.pack())
    assert "Meeting booked" in slack.last_answer()
    assert (await _lead(slack, data.lead_id)).stage == "sql"
