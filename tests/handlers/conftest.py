"""Offers made through intake, ready for a rep to act on."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from handlers.intake.leads import LeadIn, ingest
from handlers.services import Services
from handlers.views.actions import ButtonData
from store.models import Handoff
from tests.factories import lead_payload


async def offer(services: Services, **fields: Any) -> ButtonData:
    """Ingest a qualifying lead and return the button data of its open offer."""
    (outcome,) = await ingest(services, [LeadIn.model_validate(lead_payload(**fields))])
    assert outcome.offered, outcome
    async with services.db.transaction() as session:
        handoff = (await session.scalars(select(Handoff).where(Handoff.lead_id == outcome.lead_id))).one()
    return ButtonData(lead_id=outcome.lead_id, handoff_id=handoff.id)


@pytest.fixture
async def alice_offer(services: Services) -> ButtonData:
    """A lead offered directly to alice@example.com (team enterprise)."""
    return await offer(services)


@pytest.fixture
async def emea_offer(services: Services) -> ButtonData:
    """A lead posted to the emea team channel for any of its reps to claim."""
    return await offer(services, country="DE")
