"""A fault on Baton's side while storing one lead keeps neither the request's other leads out
nor the CRM in the dark: they are stored, the answer is a 500 naming the lead, and a retry is safe."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from handlers.intake import leads as intake
from scoring.lead import LeadData
from store.db import Database
from store.models import Handoff, Lead
from tests.conftest import auth
from tests.factories import lead_payload

LEADS = [lead_payload(external_id=f"fault-{i}", email=f"fault{i}@prospect.example") for i in range(3)]
BROKEN = "fault1@prospect.example"


class Bug:
    """Routing raises for one lead, as a bug triggered by odd data would, until it is fixed."""

    def __init__(self) -> None:
        self.fixed = False


@pytest.fixture
def broken_routing(monkeypatch: pytest.MonkeyPatch) -> Bug:
    bug, real_route = Bug(), intake.route

    def route(lead: LeadData, *args: Any) -> Any:
        if lead.email == BROKEN and not bug.fixed:
            raise RuntimeError("routing bug")
        return real_route(lead, *args)

    monkeypatch.setattr(intake, "route", route)
    return bug


async def stored(db: Database) -> dict[str, int]:
    """Stored leads by external id, with how many offers each has."""
    async with db.transaction() as session:
        leads = (await session.scalars(select(Lead))).all()
        offers = (await session.scalars(select(Handoff.lead_id))).all()
    return {lead.external_id: offers.count(lead.id) for lead in leads}


@pytest.mark.usefixtures("broken_routing")
async def test_the_other_leads_are_stored_and_the_answer_names_the_one_that_was_not(api: Any, db: Database) -> None:
    response = await api.post("/api/leads", json=LEADS, headers=auth())
    assert response.status == 500
    body = await response.json()
    assert body["failed"] == [{"external_id": "fault-1"}]
    assert "the others were stored" in body["error"] and "Traceback" not in body["error"]
    assert [r["external_id"] for r in body["results"]] == ["fault-0", "fault-2"]
    assert await stored(db) == {"fault-0": 1, "fault-2": 1}


@pytest.mark.usefixtures("broken_routing")
async def test_a_single_lead_that_cannot_be_stored_leaves_nothing_behind(api: Any, db: Database) -> None:
    response = await api.post("/api/leads", json=LEADS[1], headers=auth())
    assert response.status == 500 and (await response.json())["failed"] == [{"external_id": "fault-1"}]
    assert await stored(db) == {}


async def test_sending_the_request_again_after_the_fix_stores_the_rest_once(
    api: Any, db: Database, broken_routing: Bug
) -> None:
    assert (await api.post("/api/leads", json=LEADS, headers=auth())).status == 500
    broken_routing.fixed = True
    response = await api.post("/api/leads", json=LEADS, headers=auth())
    assert response.status == 202
    assert [r["status"] for r in (await response.json())["results"]] == ["unchanged", "created", "unchanged"]
    assert await stored(db) == {"fault-0": 1, "fault-1": 1, "fault-2": 1}
