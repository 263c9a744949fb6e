"""Routing skips a rep no configured chat platform reaches, and the lead still reaches a person."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select

from handlers.intake.leads import LeadIn, ingest
from handlers.services import Services
from handlers.text.routing import routing_words
from store.models import Conversation, Handoff, Lead, OutboxMessage
from tests.factories import agreement_data, lead_payload, make_agreement
from tests.scoring.conftest import team_data

ALICE, BOB = "alice@example.com", "bob@example.com"


def enterprise_without(*slack_ids_of: str, **overrides: Any) -> Any:
    """The example agreement with the named enterprise reps' slack_id removed."""
    data = agreement_data(**overrides)
    for rep in team_data(data, "enterprise")["reps"]:
        if rep["email"] in slack_ids_of:
            rep.pop("slack_id")
    return make_agreement(**data)


async def leads_to(services: Services, count: int) -> list[tuple[str | None, str]]:
    outcomes = await ingest(services, [LeadIn.model_validate(lead_payload()) for _ in range(count)])
    async with services.db.transaction() as session:
        handoffs = (
            await session.scalars(select(Handoff).where(Handoff.lead_id.in_([o.lead_id for o in outcomes])))
        ).all()
    return [(h.rep, h.mode) for h in handoffs]


async def test_a_rep_with_no_chat_identity_gets_no_leads(services: Services) -> None:
    services = replace(services, agreement=enterprise_without(BOB), reachable_on=frozenset({"slack"}))
    picks = await leads_to(services, 6)
    assert picks == [(ALICE, "direct")] * 6
    async with services.db.transaction() as session:
        lead = (await session.scalars(select(Lead).limit(1))).one()
    routing = routing_words(lead.routing)
    assert routing is not None
    assert {"email": BOB, "reason": "reachable on no enabled chat platform (no slack_id)"} in routing["skipped"]
    assert any(t.startswith(f"skipped {BOB}: reachable on no enabled chat platform") for t in routing["trace"])


async def test_a_slack_id_is_no_use_when_only_teams_is_configured(services: Services) -> None:
    services = replace(services, reachable_on=frozenset({"teams"}))
    async with services.db.transaction() as session:  # Bob installed the app in Teams; Alice did not
        session.add(
            Conversation(
                platform="teams",
                key=BOB,
                kind="user",
                reference={},
                tenant_id=None,
                gone=False,
                updated_at=services.clock.now(),
            )
        )
    assert await leads_to(services, 3) == [(BOB, "direct")] * 3


async def test_when_no_rep_is_reachable_the_managers_channel_gets_the_card(services: Services) -> None:
    services = replace(services, agreement=enterprise_without(ALICE, BOB), reachable_on=frozenset({"slack"}))
    assert await leads_to(services, 1) == [(None, "none")]
    async with services.db.transaction() as session:
        (card,) = (await session.scalars(select(OutboxMessage).where(OutboxMessage.message_key.is_not(None)))).all()
    assert card.payload["channel"] == "C0SALESMGRS"


async def test_without_a_managers_channel_the_teams_manager_gets_the_card(services: Services) -> None:
    data = agreement_data()
    data["channels"] = {"marketing_feedback": data["channels"]["marketing_feedback"]}
    services = replace(
        services, agreement=enterprise_without(ALICE, BOB, channels=data["channels"]), reachable_on=frozenset({"slack"})
    )
    assert await leads_to(services, 1) == [(None, "none")]
    async with services.db.transaction() as session:
        (card,) = (await session.scalars(select(OutboxMessage).where(OutboxMessage.message_key.is_not(None)))).all()
    assert (card.payload["email"], card.payload["user"]) == ("morgan.manager@example.com", "U0MANAGER1")
