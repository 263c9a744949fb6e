"""End to end after the offer: nudge, escalation with Reassign, questions, and the digest chart."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.runtime import Runtime
from handlers.clock import ManualClock
from handlers.digest.weekly import run_weekly_digest
from handlers.followup import timers
from handlers.views.actions import ButtonData, ReassignChoice
from store.models import Handoff
from tests.fakes.bot_connector import FakeConnector
from tests.teams.conftest import (
    BOT_ID,
    MANAGERS_CHANNEL,
    MARKETING_CHANNEL,
    activity,
    card_action,
    install_channel,
    install_personal,
    message,
    user,
)
from tests.teams.test_flow import offered_card, post


async def deliver(runtime: Runtime) -> None:
    while await runtime.worker.run_once():
        pass


def cards_to(connector: FakeConnector, conversation_id: str) -> list[dict[str, Any]]:
    return [c.card for c in connector.of_kind("send", "reply") if c.conversation_id == conversation_id and c.card]


async def test_an_unanswered_offer_nudges_the_rep_then_escalates_to_the_manager_who_reassigns(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector, clock: ManualClock, card_validator: Any
) -> None:
    for email in ("alice@example.com", "morgan.manager@example.com"):
        await post(teams, install_personal(connector, email))
    await post(teams, install_channel(connector, MANAGERS_CHANNEL, "morgan.manager@example.com"))
    await offered_card(teams, teams_runtime, connector)
    clock.advance(timedelta(minutes=16))
    await timers.sweep(teams_runtime.services)
    await deliver(teams_runtime)
    nudge = cards_to(connector, "a:personal-aad-alice")[-1]
    card_validator.validate(nudge)
    assert "Reminder" in str(nudge["body"][0])
    clock.advance(timedelta(minutes=15))
    await timers.sweep(teams_runtime.services)
    await deliver(teams_runtime)
    (escalation,) = cards_to(connector, "a:personal-aad-morgan")
    assert cards_to(connector, MANAGERS_CHANNEL)
    card_validator.validate(escalation)
    assert [a["verb"] for a in escalation["actions"]] == ["reassign", "take_over"]
    picker = next(item for item in escalation["body"] if item["type"] == "Input.ChoiceSet")
    value = escalation["actions"][0]["data"]["value"]
    # Each option is a typed ReassignChoice, as on Slack; a bare email (cards posted before) still works.
    assert [c["value"] for c in picker["choices"]] == [
        ReassignChoice(ButtonData.unpack(value), "bob@example.com").pack()
    ]
    body = await (
        await post(
            teams,
            card_action(connector, "morgan.manager@example.com", "reassign", value, reassign_choice="bob@example.com"),
        )
    ).json()
    assert body["type"] == "application/vnd.microsoft.activity.message"
    async with teams_runtime.db.transaction() as session:
        reps = (await session.scalars(select(Handoff.rep).order_by(Handoff.id))).all()
    assert reps == ["alice@example.com", "bob@example.com"]


async def test_a_rep_cannot_use_the_managers_reassign_button(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector
) -> None:
    await post(teams, install_personal(connector, "alice@example.com"))
    card = await offered_card(teams, teams_runtime, connector)
    value = card["actions"][0]["data"]["value"]
    body = await (
        await post(
            teams, card_action(connector, "bob@example.com", "reassign", value, reassign_choice="bob@example.com")
        )
    ).json()
    assert body["type"] == "application/vnd.microsoft.activity.message" and "Only Morgan Manager" in body["value"]
    async with teams_runtime.db.transaction() as session:
        assert (await session.scalars(select(Handoff.rep))).all() == ["alice@example.com"]


async def test_a_question_in_a_personal_chat_is_answered_with_a_card(
    teams: Any, connector: FakeConnector, card_validator: Any
) -> None:
    await post(teams, message(connector, "alice@example.com", "define mql"))
    (reply,) = connector.of_kind("reply")
    assert reply.conversation_id == "a:personal-aad-alice" and reply.card is not None
    card_validator.validate(reply.card)
    assert "MQL" in str(reply.card) or "qualified" in str(reply.card).lower()


async def test_a_channel_question_needs_the_mention_which_is_stripped(teams: Any, connector: FakeConnector) -> None:
    conversation = {"id": f"{MARKETING_CHANNEL};messageid=42", "conversationType": "channel"}
    plain = activity(connector, "message", user("mark.marketer@example.com"), conversation, text="help")
    await post(teams, plain)
    assert connector.of_kind("reply") == []
    mention = {"type": "mention", "text": "<at>Baton</at>", "mentioned": {"id": BOT_ID, "name": "Baton"}}
    asked = activity(
        connector,
        "message",
        user("mark.marketer@example.com"),
        conversation,
        text="<at>Baton</at> help",
        entities=[mention],
    )
    await post(teams, asked)
    (reply,) = connector.of_kind("reply")
    assert reply.card is not None and "<at>" not in str(reply.card)


async def test_the_weekly_digest_reaches_managers_and_marketing_with_the_chart(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector, card_validator: Any
) -> None:
    await post(teams, install_personal(connector, "morgan.manager@example.com"))
    await post(teams, install_channel(connector, MARKETING_CHANNEL, "mark.marketer@example.com"))
    assert await run_weekly_digest(teams_runtime.services)
    await deliver(teams_runtime)
    sent = [c for c in connector.of_kind("send") if c.conversation_id in ("a:personal-aad-morgan", MARKETING_CHANNEL)]
    assert {c.conversation_id for c in sent} == {"a:personal-aad-morgan", MARKETING_CHANNEL}
    for call in sent:
        assert call.card is not None
        card_validator.validate(call.card)
        images = [a for a in call.body["attachments"] if a["contentType"] == "image/png"]
        in_card = [b for b in call.card["body"] if b["type"] == "Image"]
        assert len(images) + len(in_card) == 1
        url = images[0]["contentUrl"] if images else in_card[0]["url"]
        assert url.startswith("data:image/png;base64,iVBOR")
