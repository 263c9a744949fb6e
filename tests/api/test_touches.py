"""POST /api/leads/{external_id}/touches: a call, email or meeting logged in the CRM or dialer counts
for the first-touch and cadence SLAs exactly as the chat buttons do; bad input names the field."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.clock import ManualClock
from handlers.followup.cadence import cadence_met
from handlers.followup.timers import sweep
from handlers.handoff.accept import accept
from handlers.services import Services
from handlers.views.actions import ButtonData
from scoring.agreement import Agreement
from store.db import Database
from store.models import AuditEvent, Handoff, Lead, Touch
from tests.api.intake_helpers import JSON, counts
from tests.api.test_intake_fuzz import FUZZ, hostile_text, json_values
from tests.conftest import auth
from tests.factories import agreement_data, make_agreement
from tests.timers.conftest import at, offer, rows

ALICE = "alice@example.com"
ALICE_CRM = "0051x00000AliceAAA"


@pytest.fixture
def agreement() -> Agreement:
    data = agreement_data()
    for team in data["teams"]:
        for rep in team.get("reps", []):
            if rep["email"] == ALICE:
                rep["crm_id"] = ALICE_CRM
    return make_agreement(**data)


async def accepted(services: Services) -> tuple[ButtonData, str]:
    """A lead offered to Alice (routing sends the example's leads to her) and accepted in chat."""
    data = await offer(services, domain_owner=None)
    async with services.db.transaction() as session:
        handoff = await session.get(Handoff, data.handoff_id)
        lead = await session.get(Lead, data.lead_id)
        assert handoff is not None and lead is not None
        rep, external_id = handoff.rep, lead.external_id
    assert rep is not None
    outcome = await accept(services, data, rep, "slack")
    assert outcome.ok, outcome.message
    return data, external_id


async def post(api: Any, external_id: str, body: Any) -> tuple[int, dict[str, Any]]:
    response = await api.post(f"/api/leads/{external_id}/touches", json=body, headers={**auth(), **JSON})
    return response.status, await response.json()


async def test_a_call_logged_through_the_api_stops_the_first_touch_nudge(
    api: Any, runtime: Any, clock: ManualClock
) -> None:
    services = runtime.services
    data, external_id = await accepted(services)
    async with services.db.transaction() as session:
        handoff = await session.get(Handoff, data.handoff_id)
        assert handoff is not None
        rep = handoff.rep
    status, answer = await post(api, external_id, {"kind": "call", "rep": rep, "outcome": "connected", "id": "c-1"})
    assert status == 202, answer
    assert answer["results"] == [{"index": 0, "status": "logged", "kind": "call", "rep": rep}]
    at(clock, "16:30")  # past the first-touch SLA: without the touch, the owner is nudged
    await sweep(services)
    assert await rows(services, AuditEvent, AuditEvent.action == "sla.nudged") == []
    (touch,) = await rows(services, Touch)
    assert touch.outcome == "connected" and touch.external_id == "c-1" and touch.rep == rep
    lead = (await rows(services, Lead))[0]
    assert lead.first_touch_at is not None


async def test_without_the_touch_the_nudge_comes(runtime: Any, clock: ManualClock) -> None:
    services = runtime.services
    await accepted(services)
    at(clock, "16:30")
    await sweep(services)
    assert len(await rows(services, AuditEvent, AuditEvent.action == "sla.nudged")) == 1


async def test_touches_by_crm_id_count_for_the_cadence_and_a_resent_one_is_a_duplicate(
    api: Any, runtime: Any, clock: ManualClock
) -> None:
    services = runtime.services
    data, external_id = await accepted(services)
    async with services.db.transaction() as session:
        handoff = await session.get(Handoff, data.handoff_id)
        assert handoff is not None and handoff.rep == ALICE, "the example routes this lead to Alice"
    clock.advance(timedelta(hours=1))
    body = {
        "touches": [
            {"kind": "email", "rep_crm_id": ALICE_CRM, "id": "e-1"},
            {"kind": "call", "rep_crm_id": ALICE_CRM, "at": (clock.now() - timedelta(minutes=5)).isoformat()},
        ]
    }
    status, answer = await post(api, external_id, body)
    assert status == 202 and [r["status"] for r in answer["results"]] == ["logged", "logged"]
    status, again = await post(api, external_id, {"kind": "email", "rep_crm_id": ALICE_CRM, "id": "e-1"})
    assert status == 202 and again["results"][0]["status"] == "duplicate"
    async with services.db.transaction() as session:
        lead = await session.get(Lead, data.lead_id)
        handoff = await session.get(Handoff, data.handoff_id)
        assert lead is not None and handoff is not None
        _, progress = await cadence_met(session, services.agreement, lead, handoff)
    assert "1 of" in progress and len(await rows(services, Touch)) == 2


async def test_a_meeting_from_the_api_makes_the_lead_sql(api: Any, runtime: Any) -> None:
    data, external_id = await accepted(runtime.services)
    status, _ = await post(api, external_id, {"kind": "meeting", "rep": ALICE})
    assert status == 202
    (lead,) = await rows(runtime.services, Lead)
    assert lead.stage == "sql" and lead.sql_at is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "fax", "rep": ALICE}, "kind"),
        ({"kind": "call"}, "(top level)"),
        ({"kind": "call", "rep": ALICE, "rep_crm_id": ALICE_CRM}, "(top level)"),
        ({"kind": "call", "rep": "not-an-email"}, "rep"),
        ({"kind": "call", "rep": ALICE, "at": "yesterday"}, "at"),
        ({"kind": "call", "rep": ALICE, "at": "2026-11-23T10:00:00"}, "at"),
        ({"kind": "call", "rep": ALICE, "colour": "red"}, "colour"),
        ({"kind": "call", "rep": ALICE, "outcome": "two\nlines"}, "outcome"),
        ({"touches": [{"kind": "call", "rep": ALICE}, {"kind": "call", "rep": "nobody@example.com"}]}, "[1].rep"),
        ({"kind": "call", "rep_crm_id": "005-unknown"}, "rep_crm_id"),
        ({"kind": "call", "rep": "morgan.manager@example.com"}, None),  # a manager of the team may
    ],
)
async def test_bad_touches_name_the_field_and_write_nothing(
    api: Any, runtime: Any, db: Database, body: Any, field: str | None
) -> None:
    _, external_id = await accepted(runtime.services)
    before = await counts(db)
    status, answer = await post(api, external_id, body)
    if field is None:
        assert status == 202, answer
        return
    assert 400 <= status < 500, answer
    assert field in {p["field"] for p in answer["problems"]}, answer
    assert await counts(db) == before and await rows(runtime.services, Touch) == []


async def test_a_touch_on_a_lead_not_yet_accepted_is_409(api: Any, runtime: Any, db: Database) -> None:
    data = await offer(runtime.services)
    (lead,) = await rows(runtime.services, Lead)
    status, answer = await post(api, lead.external_id, {"kind": "call", "rep": ALICE})
    assert status == 409 and "not accepted" in answer["error"]
    assert data and await rows(runtime.services, Touch) == []


async def test_an_unknown_lead_is_404_and_the_intake_token_is_required(api: Any) -> None:
    status, answer = await post(api, "no-such-lead", {"kind": "call", "rep": ALICE})
    assert status == 404 and "no-such-lead" in answer["error"]
    response = await api.post("/api/leads/x/touches", json={"kind": "call", "rep": ALICE}, headers=JSON)
    assert response.status == 401


touch_values = st.fixed_dictionaries(
    {},
    optional={
        "kind": st.sampled_from(["call", "email", "meeting", "fax", ""]) | hostile_text,
        "rep": st.sampled_from([ALICE, "nobody@example.com", ""]) | hostile_text | json_values,
        "rep_crm_id": st.sampled_from([ALICE_CRM, "x"]) | hostile_text | json_values,
        "at": st.sampled_from(["2026-11-23T15:00:00Z", "2999-01-01T00:00:00Z", "soon"]) | json_values,
        "outcome": hostile_text | json_values,
        "id": hostile_text | json_values,
        "extra": json_values,
    },
)


bodies = (
    json_values
    | touch_values
    | st.lists(touch_values, max_size=3)
    | st.builds(lambda t: {"touches": t}, st.lists(touch_values, max_size=3))
)


@FUZZ
@given(value=bodies)
async def test_any_touch_body_is_answered_without_a_5xx(api: Any, runtime: Any, db: Database, value: Any) -> None:
    leads = await rows(runtime.services, Lead)
    external_id = leads[0].external_id if leads else (await accepted(runtime.services))[1]
    before = await counts(db)
    touches = len(await rows(runtime.services, Touch))
    response = await api.post(
        f"/api/leads/{external_id}/touches", data=json.dumps(value).encode(), headers={**auth(), **JSON}
    )
    text = await response.text()
    assert response.status < 500, text
    if response.status >= 400:
        assert await counts(db) == before and len(await rows(runtime.services, Touch)) == touches, text
