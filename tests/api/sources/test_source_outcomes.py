"""A source's ``outcome`` mapping: a CRM's deal stage, posted to its source URL, counts as the outcome API's."""

from __future__ import annotations

from typing import Any

from handlers.handoff.accept import accept
from store.models import Handoff, Lead, Outcome
from tests.api.intake_helpers import JSON
from tests.api.source_helpers import JSON_TOKEN
from tests.timers.conftest import offer, rows

HEADERS = {"Authorization": f"Bearer {JSON_TOKEN}", **JSON}


def deal_update(lead: Lead, **deal: Any) -> dict[str, Any]:
    return {"contact": {"id": lead.external_id, "email": lead.email}, "deal": {"id": "deal-9", **deal}}


async def accepted_lead(services: Any) -> Lead:
    data = await offer(services)
    (handoff,) = await rows(services, Handoff)
    assert handoff.rep is not None and (await accept(services, data, handoff.rep, "slack")).ok
    (lead,) = await rows(services, Lead)
    return lead


async def test_a_won_deal_mapped_from_a_source_moves_the_lead_and_records_the_amount(api: Any, runtime: Any) -> None:
    lead = await accepted_lead(runtime.services)
    body = deal_update(lead, stage="won", amount="12000.50", currency="EUR")
    response = await api.post("/api/sources/deals", json=body, headers=HEADERS)
    answer = await response.json()
    assert response.status == 202, answer
    (result,) = answer["results"]
    assert result["outcome"] == {"external_id": lead.external_id, "outcome": "won", "status": "created", "stage": "won"}
    (outcome,) = await rows(runtime.services, Outcome)
    assert (outcome.kind, outcome.amount, outcome.currency) == ("won", "12000.5", "EUR")
    assert (await rows(runtime.services, Lead))[0].stage == "won"


async def test_the_same_deal_sent_again_does_not_count_twice(api: Any, runtime: Any) -> None:
    lead = await accepted_lead(runtime.services)
    body = deal_update(lead, stage="won", amount=500)
    for _ in range(2):
        response = await api.post("/api/sources/deals", json=body, headers=HEADERS)
        assert response.status == 202
    (result,) = (await response.json())["results"]
    assert result["outcome"]["status"] == "unchanged"
    assert len(await rows(runtime.services, Outcome)) == 1


async def test_a_record_whose_deal_stage_is_empty_carries_no_outcome(api: Any, runtime: Any) -> None:
    lead = await accepted_lead(runtime.services)
    response = await api.post("/api/sources/deals", json=deal_update(lead, stage=""), headers=HEADERS)
    (result,) = (await response.json())["results"]
    assert response.status == 202 and "outcome" not in result
    assert await rows(runtime.services, Outcome) == []


async def test_an_outcome_before_acceptance_is_refused_beside_the_stored_lead(api: Any, runtime: Any) -> None:
    body = {"contact": {"id": "crm-55", "email": "new@prospect-n.example"}, "deal": {"stage": "won"}}
    response = await api.post("/api/sources/deals", json=body, headers=HEADERS)
    answer = await response.json()
    assert response.status == 202, answer
    (result,) = answer["results"]
    assert result["outcome"]["status"] == 409 and "stage" in result["outcome"]["error"]
    assert await rows(runtime.services, Outcome) == []


async def test_an_outcome_that_does_not_validate_keeps_the_record_as_an_intake_failure(api: Any, runtime: Any) -> None:
    lead = await accepted_lead(runtime.services)
    response = await api.post("/api/sources/deals", json=deal_update(lead, stage="closed", amount=-3), headers=HEADERS)
    answer = await response.json()
    assert response.status == 422, answer
    fields = {p["field"] for p in answer["problems"]}
    assert {"outcome.outcome", "outcome.amount"} <= fields
    assert await rows(runtime.services, Outcome) == []
