"""Teams end to end: nudges and escalations notify with real mentions, and after a manager's
Take over every notice (nudge, escalation DM, managers channel) is updated in place."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.runtime import Runtime
from handlers.clock import ManualClock
from handlers.followup import timers
from handlers.views.actions import ButtonData, ReassignChoice
from store.models import Handoff
from tests.fakes.bot_connector import Call, FakeConnector
from tests.teams.conftest import MANAGERS_CHANNEL, card_action, install_channel, install_personal
from tests.teams.test_flow import offered_card, post

ALICE, MORGAN = "alice@example.com", "morgan.manager@example.com"
ALICE_CHAT, MORGAN_CHAT = "a:personal-aad-alice", "a:personal-aad-morgan"


async def deliver(runtime: Runtime, clock: ManualClock) -> None:
    """Everything the outbox holds for Teams, waiting out each conversation's pace on the test clock."""
    for _ in range(10):
        while await runtime.worker.run_once():
            pass
        clock.advance(timedelta(seconds=5))


def sent_to(connector: FakeConnector, conversation: str, kind: str = "send") -> list[Call]:
    return [c for c in connector.of_kind(kind) if c.conversation_id == conversation and c.card]


async def escalate(teams: Any, runtime: Runtime, connector: FakeConnector, clock: ManualClock) -> dict[str, Any]:
    """Installed for Alice, Morgan and the managers channel; Alice's offer nudged, then escalated."""
    for email in (ALICE, MORGAN):
        await post(teams, install_personal(connector, email))
    await post(teams, install_channel(connector, MANAGERS_CHANNEL, MORGAN))
    card = await offered_card(teams, runtime, connector)
    for minutes in (16, 15):
        clock.advance(timedelta(minutes=minutes))
        await timers.sweep(runtime.services)
        await deliver(runtime, clock)
    return card


async def test_nudges_and_escalations_carry_valid_mentions_that_notify(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector, clock: ManualClock, card_validator: Any
) -> None:
    await escalate(teams, teams_runtime, connector, clock)
    (nudge,) = [c for c in sent_to(connector, ALICE_CHAT) if "Reminder" in str(c.card)]
    assert nudge.mentions == [("aad-alice", "Alice Example")] and nudge.notified == ["aad-alice"]
    assert nudge.body["text"].startswith("<at>Alice Example</at>: Reminder")
    (channel,) = sent_to(connector, MANAGERS_CHANNEL)
    (dm,) = sent_to(connector, MORGAN_CHAT)
    for escalation in (channel, dm):
        assert escalation.notified == ["aad-morgan"]
        assert escalation.card is not None
        card_validator.validate(escalation.card)
        entity = escalation.body["entities"][0]
        assert entity == {
            "type": "mention",
            "text": "<at>Morgan Manager</at>",
            "mentioned": {"id": "aad-morgan", "name": "Morgan Manager"},
        }


async def test_a_person_without_a_teams_id_is_mentioned_by_the_id_teams_gave_them(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector, clock: ManualClock
) -> None:
    # Morgan has no teams_id in this agreement: the id comes from Morgan's install of the app.
    for team in teams_runtime.services.agreement.teams:
        for manager in team.managers:
            manager.chat_ids.pop("teams", None)
    await escalate(teams, teams_runtime, connector, clock)
    (channel,) = sent_to(connector, MANAGERS_CHANNEL)
    assert channel.notified == ["aad-morgan"]


async def test_after_a_take_over_every_notice_is_updated_without_buttons(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector, clock: ManualClock, card_validator: Any
) -> None:
    await escalate(teams, teams_runtime, connector, clock)
    (dm,) = sent_to(connector, MORGAN_CHAT)
    assert dm.card is not None
    value = next(a["data"]["value"] for a in dm.card["actions"] if a["verb"] == "take_over")
    await post(teams, card_action(connector, MORGAN, "take_over", value))
    await deliver(teams_runtime, clock)
    nudge = next(c for c in sent_to(connector, ALICE_CHAT) if "Reminder" in str(c.card))
    (channel,) = sent_to(connector, MANAGERS_CHANNEL)
    for posted in (nudge, dm, channel):
        (updated,) = [u for u in connector.of_kind("update") if u.activity_id == posted.response_id]
        assert updated.conversation_id == posted.conversation_id
        assert updated.card is not None
        card_validator.validate(updated.card)
        assert "actions" not in updated.card
        assert "Taken over by Morgan Manager" in str(updated.card["body"])
        assert updated.notified == []  # an edit notifies nobody
    body = await (await post(teams, card_action(connector, MORGAN, "take_over", value))).json()
    assert body == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": "Already accepted by you.",
    }


async def test_the_reassign_picker_carries_a_typed_choice_and_a_forged_one_is_refused(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector, clock: ManualClock
) -> None:
    await escalate(teams, teams_runtime, connector, clock)
    (dm,) = sent_to(connector, MORGAN_CHAT)
    assert dm.card is not None
    value = next(a["data"]["value"] for a in dm.card["actions"] if a["verb"] == "reassign")
    picker = next(item for item in dm.card["body"] if item["type"] == "Input.ChoiceSet")
    (choice,) = [c["value"] for c in picker["choices"]]
    offer = ButtonData.unpack(value)
    assert ReassignChoice.unpack(choice) == ReassignChoice(offer, "bob@example.com")
    other = ReassignChoice(ButtonData(offer.lead_id, offer.handoff_id + 1), "bob@example.com").pack()
    forged = await post(teams, card_action(connector, MORGAN, "reassign", value, reassign_choice=other))
    assert (await forged.json())["statusCode"] == 400
    done = await post(teams, card_action(connector, MORGAN, "reassign", value, reassign_choice=choice))
    assert "Bob Example" in (await done.json())["value"]
    await deliver(teams_runtime, clock)
    nudge = next(c for c in sent_to(connector, ALICE_CHAT) if "Reminder" in str(c.card))
    (channel,) = sent_to(connector, MANAGERS_CHANNEL)
    for posted in (nudge, dm, channel):  # every notice, on the manager's Reassign too
        (updated,) = [u for u in connector.of_kind("update") if u.activity_id == posted.response_id]
        assert updated.card is not None and "actions" not in updated.card
        assert "Reassigned to Bob Example by Morgan Manager" in str(updated.card["body"])
    async with teams_runtime.db.transaction() as session:
        assert (await session.scalars(select(Handoff.rep).order_by(Handoff.id))).all() == [ALICE, "bob@example.com"]


async def test_accept_pressed_on_the_nudge_answers_there_and_the_nudge_is_settled(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector, clock: ManualClock
) -> None:
    await post(teams, install_personal(connector, ALICE))
    await offered_card(teams, teams_runtime, connector)
    clock.advance(timedelta(minutes=16))
    await timers.sweep(teams_runtime.services)
    await deliver(teams_runtime, clock)
    (nudge,) = [c for c in sent_to(connector, ALICE_CHAT) if "Reminder" in str(c.card)]
    assert nudge.card is not None
    data = dict(next(a for a in nudge.card["actions"] if a["verb"] == "accept")["data"])
    value = data.pop("value")
    assert data == {"from_notice": True}  # what Teams sends back with the press
    answer = await (await post(teams, card_action(connector, ALICE, "accept", value, **data))).json()
    # A message on the nudge, not the lead card swapped in where the reminder was.
    assert answer["type"] == "application/vnd.microsoft.activity.message" and "accepted" in answer["value"].lower()
    await deliver(teams_runtime, clock)
    (updated,) = [u for u in connector.of_kind("update") if u.activity_id == nudge.response_id]
    assert updated.card is not None and "actions" not in updated.card
    assert "Accepted by Alice Example" in str(updated.card["body"])
