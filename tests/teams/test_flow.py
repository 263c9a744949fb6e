"""End to end on the aiohttp app: install, offer delivered proactively, accept, reject, touches."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from bot.runtime import Runtime
from store.models import AuditEvent, Conversation, Handoff, Lead, Touch
from tests.conftest import auth
from tests.factories import lead_payload
from tests.fakes.bot_connector import FakeConnector
from tests.teams.conftest import (
    EMEA_CHANNEL,
    MARKETING_CHANNEL,
    card_action,
    install_channel,
    install_personal,
)


async def post(teams: Any, body: dict[str, Any]) -> Any:
    response = await teams.post("/api/messages", json=body)
    assert response.status in (200, 201), await response.text()
    return response


async def offered_card(teams: Any, runtime: Runtime, connector: FakeConnector, **fields: Any) -> dict[str, Any]:
    """Intake one lead and deliver its offer; returns the card Teams received."""
    response = await teams.post("/api/leads", json=lead_payload(**fields), headers=auth())
    assert response.status == 202
    await runtime.worker.run_once()
    (sent,) = [c for c in connector.of_kind("send") if c.card and c.card.get("refresh")][-1:]
    assert sent.card is not None
    return sent.card


def button_value(card: dict[str, Any], verb: str) -> str:
    return next(a["data"]["value"] for a in card["actions"] if a["verb"] == verb)


async def test_install_stores_the_reference_by_aad_id_email_and_conversation(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector
) -> None:
    await post(teams, install_personal(connector, "alice@example.com"))
    async with teams_runtime.db.transaction() as session:
        keys = set((await session.scalars(select(Conversation.key))).all())
    assert keys == {"aad-alice", "alice@example.com", "a:personal-aad-alice"}


async def test_an_offer_reaches_the_rep_proactively_as_an_adaptive_card(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector, card_validator: Any
) -> None:
    await post(teams, install_personal(connector, "alice@example.com"))
    card = await offered_card(teams, teams_runtime, connector, first_name="Ann")
    (sent,) = connector.of_kind("send")
    assert sent.conversation_id == "a:personal-aad-alice"
    card_validator.validate(card)
    assert [a["verb"] for a in card["actions"]] == ["accept", "reject"]
    assert card["refresh"]["userIds"] == ["8:orgid:aad-alice"]


async def test_accept_answers_with_the_refreshed_card_and_updates_it_for_everyone(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector, card_validator: Any
) -> None:
    await post(teams, install_personal(connector, "alice@example.com"))
    card = await offered_card(teams, teams_runtime, connector)
    response = await post(teams, card_action(connector, "alice@example.com", "accept", button_value(card, "accept")))
    body = await response.json()
    assert body["statusCode"] == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
    card_validator.validate(body["value"])
    assert "Accepted" in str(body["value"]) and [a["verb"] for a in body["value"]["actions"]] == [
        "log_call",
        "log_email",
        "meeting_booked",
        "unreachable",
    ]
    await teams_runtime.worker.run_once()
    (update,) = connector.of_kind("update")
    (sent,) = connector.of_kind("send")
    assert (update.conversation_id, update.activity_id) == (sent.conversation_id, sent.response_id)
    assert update.card is not None and "Accepted" in str(update.card)


async def test_racing_accepts_make_exactly_one_owner(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector
) -> None:
    await post(teams, install_personal(connector, "alice@example.com"))
    card = await offered_card(teams, teams_runtime, connector)
    value = button_value(card, "accept")
    responses = await asyncio.gather(
        *[
            teams.post("/api/messages", json=card_action(connector, "alice@example.com", "accept", value))
            for _ in range(5)
        ]
    )
    bodies = [await r.json() for r in responses]
    assert sum(b["type"] == "application/vnd.microsoft.card.adaptive" for b in bodies) == 1
    assert all("Already accepted by you" in b["value"] for b in bodies if b["type"].endswith("message"))
    async with teams_runtime.db.transaction() as session:
        accepted = await session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "lead.accepted")
        )
    assert accepted == 1


async def test_racing_claims_in_a_team_channel_make_exactly_one_owner(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector
) -> None:
    await post(teams, install_channel(connector, EMEA_CHANNEL, "clara@example.com"))
    card = await offered_card(teams, teams_runtime, connector, country="DE")
    assert connector.of_kind("send")[0].conversation_id == EMEA_CHANNEL
    value = button_value(card, "claim")
    reps = ["clara@example.com", "david@example.com"] * 3
    responses = await asyncio.gather(
        *[
            teams.post("/api/messages", json=card_action(connector, rep, "claim", value, channel=EMEA_CHANNEL))
            for rep in reps
        ]
    )
    bodies = [await r.json() for r in responses]
    assert sum(b["type"] == "application/vnd.microsoft.card.adaptive" for b in bodies) == 1
    async with teams_runtime.db.transaction() as session:
        handoff = (await session.scalars(select(Handoff))).one()
        owners = (await session.scalars(select(Lead.owner))).all()
    assert handoff.state == "accepted" and owners == [handoff.decided_by]


async def test_reject_opens_the_form_requires_the_note_then_rejects_and_tells_marketing(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector, card_validator: Any
) -> None:
    await post(teams, install_personal(connector, "alice@example.com"))
    await post(teams, install_channel(connector, MARKETING_CHANNEL, "mark.marketer@example.com"))
    card = await offered_card(teams, teams_runtime, connector)
    value = button_value(card, "reject")
    form = (await (await post(teams, card_action(connector, "alice@example.com", "reject", value))).json())["value"]
    card_validator.validate(form)
    assert [a["verb"] for a in form["actions"]] == ["reject_submit", "refresh"]
    again = (
        await (
            await post(teams, card_action(connector, "alice@example.com", "reject_submit", value, reason="no_fit"))
        ).json()
    )["value"]
    card_validator.validate(again)
    assert "A note is required" in str(again["body"]) and again["body"][2]["value"] == "no_fit"
    async with teams_runtime.db.transaction() as session:
        assert (await session.scalar(select(Handoff.state))) == "offered"
    done = await (
        await post(
            teams,
            card_action(connector, "alice@example.com", "reject_submit", value, reason="no_fit", note="Too small"),
        )
    ).json()
    assert "Rejected" in str(done["value"])
    await teams_runtime.worker.run_once()
    feedback = [c for c in connector.of_kind("send") if c.conversation_id == MARKETING_CHANNEL]
    assert len(feedback) == 1 and "Too small" in str(feedback[0].card)
    async with teams_runtime.db.transaction() as session:
        assert (await session.scalar(select(Lead.stage))) == "disqualified"


async def test_after_acceptance_a_touch_button_logs_the_touch_and_shows_it_on_the_card(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector, card_validator: Any
) -> None:
    await post(teams, install_personal(connector, "alice@example.com"))
    card = await offered_card(teams, teams_runtime, connector)
    accepted = (
        await (
            await post(teams, card_action(connector, "alice@example.com", "accept", button_value(card, "accept")))
        ).json()
    )["value"]
    body = await (
        await post(teams, card_action(connector, "alice@example.com", "log_call", button_value(accepted, "log_call")))
    ).json()
    card_validator.validate(body["value"])
    assert "Touch logged" in str(body["value"]["body"])
    async with teams_runtime.db.transaction() as session:
        assert (await session.scalar(select(func.count()).select_from(Touch))) == 1
