"""POST /api/leads: scoring, storing, qualifying, routing and offering, and refusing bad input."""

from __future__ import annotations

import io
import json
from typing import Any

from sqlalchemy import func, select

from bot.api.auth import sign
from store.db import Database
from store.models import Activity, AuditEvent, Handoff, Lead, OutboxMessage
from tests.conftest import auth
from tests.factories import lead_payload


async def count(db: Database, model: Any) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_qualified_lead_is_stored_routed_and_its_offer_enqueued(api: Any, db: Database) -> None:
    response = await api.post("/api/leads", json=lead_payload(external_id="crm-1"), headers=auth())
    assert response.status == 202
    (result,) = (await response.json())["results"]
    assert result["status"] == "created" and result["stage"] == "mql" and result["offered"] is True
    assert result["routing"]["team"] == "enterprise" and result["routing"]["rep"] == "alice@example.com"
    async with db.transaction() as session:
        handoff = (await session.scalars(select(Handoff))).one()
        message = (await session.scalars(select(OutboxMessage))).one()
    assert handoff.rep == "alice@example.com" and handoff.state == "offered"
    assert message.payload["user"] == "U0ALICE001" and message.payload["view"]["type"] == "lead_card"


async def test_a_batch_answers_per_lead_with_score_stage_and_reasons(api: Any) -> None:
    leads = [
        lead_payload(),
        lead_payload(employees=20),
        lead_payload(title="Analyst", industry="retail", employees=150, country="BR"),
    ]
    response = await api.post("/api/leads", json=leads, headers=auth())
    results = (await response.json())["results"]
    assert [r["stage"] for r in results] == ["mql", "disqualified", "captured"]
    assert "Company under 100 employees" in results[1]["not_qualified"]
    assert any("below the threshold" in reason for reason in results[2]["not_qualified"])


async def test_the_same_lead_twice_updates_it_and_is_offered_once(api: Any, db: Database) -> None:
    payload = lead_payload(external_id="crm-7")
    first = await api.post("/api/leads", json=payload, headers=auth())
    second = await api.post("/api/leads", json={**payload, "title": "VP Revenue"}, headers=auth())
    assert (await first.json())["results"][0]["status"] == "created"
    assert (await second.json())["results"][0]["status"] == "updated"
    assert await count(db, Lead) == 1 and await count(db, Handoff) == 1


async def test_a_resent_identical_lead_is_reported_unchanged(api: Any) -> None:
    payload = lead_payload()
    await api.post("/api/leads", json=payload, headers=auth())
    again = await api.post("/api/leads", json=payload, headers=auth())
    assert (await again.json())["results"][0]["status"] == "unchanged"


async def test_a_second_crm_id_with_the_same_email_is_deduplicated(api: Any, db: Database) -> None:
    await api.post("/api/leads", json=lead_payload(external_id="crm-a", email="same@acme.example"), headers=auth())
    response = await api.post(
        "/api/leads", json=lead_payload(external_id="crm-b", email="Same@Acme.example"), headers=auth()
    )
    result = (await response.json())["results"][0]
    assert result["duplicate_of"] == "crm-a" and await count(db, Lead) == 1


async def test_activities_can_make_a_lead_an_mql(api: Any, db: Database) -> None:
    payload = lead_payload(external_id="crm-9", title="Analyst", industry="retail", country="BR")
    first = await api.post("/api/leads", json=payload, headers=auth())
    assert (await first.json())["results"][0]["stage"] == "captured"
    response = await api.post("/api/leads/crm-9/activities", json=[{"type": "demo_request"}], headers=auth())
    assert response.status == 202
    result = (await response.json())["result"]
    assert result["stage"] == "mql" and result["offered"] is True
    assert await count(db, Activity) == 1 and await count(db, Handoff) == 1


async def test_activities_for_an_unknown_lead_are_404(api: Any) -> None:
    response = await api.post("/api/leads/nope/activities", json=[{"type": "demo_request"}], headers=auth())
    assert response.status == 404 and "nope" in (await response.json())["error"]


async def test_every_state_change_is_audited(api: Any, db: Database) -> None:
    await api.post("/api/leads", json=lead_payload(), headers=auth())
    async with db.transaction() as session:
        actions = (await session.scalars(select(AuditEvent.action).order_by(AuditEvent.id))).all()
    assert list(actions) == ["lead.captured", "lead.qualified", "lead.offered"]


async def test_get_lead_returns_stage_owner_and_explanation(api: Any) -> None:
    await api.post("/api/leads", json=lead_payload(external_id="crm-g"), headers=auth())
    response = await api.get("/api/leads/crm-g", headers=auth())
    body = await response.json()
    assert body["stage"] == "mql" and any(line["rule"] == "Senior title" for line in body["explanation"]["lines"])


async def test_hmac_signed_requests_are_accepted(api: Any, runtime: Any) -> None:
    runtime.settings.intake_hmac_secret = "hmac-secret-for-tests"
    body = json.dumps(lead_payload()).encode()
    ts = str(int(runtime.clock.now().timestamp()))  # the signature window is read on Baton's clock
    response = await api.post(
        "/api/leads",
        data=body,
        headers={
            "X-Baton-Timestamp": ts,
            "X-Baton-Signature": sign("hmac-secret-for-tests", ts, body),
            "Content-Type": "application/json",
        },
    )
    assert response.status == 202


# --- bad input: a 4xx naming each problem, and nothing written ---------------------------------


async def assert_nothing_written(db: Database) -> None:
    for model in (Lead, Activity, Handoff, OutboxMessage, AuditEvent):
        assert await count(db, model) == 0, model.__name__


async def test_missing_token_is_401(api: Any, db: Database) -> None:
    response = await api.post("/api/leads", json=lead_payload())
    assert response.status == 401 and "Bearer" in (await response.json())["error"]
    await assert_nothing_written(db)


async def test_wrong_token_is_401(api: Any, db: Database) -> None:
    response = await api.post("/api/leads", json=lead_payload(), headers={"Authorization": "Bearer wrong"})
    assert response.status == 401
    await assert_nothing_written(db)


async def test_malformed_json_is_400(api: Any, db: Database) -> None:
    response = await api.post("/api/leads", data=b"{not json", headers={**auth(), "Content-Type": "application/json"})
    assert response.status == 400 and "not valid JSON" in (await response.json())["error"]
    await assert_nothing_written(db)


async def test_wrong_types_and_unknown_fields_are_named(api: Any, db: Database) -> None:
    leads = [lead_payload(), lead_payload(employees="many", favourite_colour="blue", email="not-an-email")]
    response = await api.post("/api/leads", json=leads, headers=auth())
    assert response.status == 422
    problems = {p["field"]: p["message"] for p in (await response.json())["problems"]}
    assert problems["leads[1].email"] == "not an email address: it must have an @-sign"
    assert "integer" in problems["leads[1].employees"]
    assert problems["leads[1].favourite_colour"] == "unknown field"
    await assert_nothing_written(db)


async def test_a_list_over_the_limit_is_refused(api: Any, db: Database) -> None:
    leads = [lead_payload(external_id=f"x{i}", email=f"x{i}@e.example") for i in range(1001)]
    response = await api.post("/api/leads", json=leads, headers=auth())
    assert response.status == 413 and "1,000" in (await response.json())["error"]
    await assert_nothing_written(db)


async def test_a_body_over_one_mebibyte_is_refused(api: Any, db: Database) -> None:
    body = json.dumps([lead_payload(company="x" * 250) for _ in range(4000)]).encode()
    assert len(body) > 1024 * 1024
    response = await api.post(
        "/api/leads", data=io.BytesIO(body), headers={**auth(), "Content-Type": "application/json"}
    )
    assert response.status == 413 and "limit" in (await response.json())["error"]
    await assert_nothing_written(db)


async def test_an_unknown_event_type_is_named(api: Any, db: Database) -> None:
    lead = lead_payload(activities=[{"type": "webinar_attended"}, {"type": "telepathy"}])
    response = await api.post("/api/leads", json=[lead], headers=auth())
    assert response.status == 422
    (problem,) = (await response.json())["problems"]
    assert problem["field"] == "leads[0].activities[1].type" and "telepathy" in problem["message"]
    await assert_nothing_written(db)


async def test_an_empty_list_is_400(api: Any) -> None:
    response = await api.post("/api/leads", json=[], headers=auth())
    assert response.status == 400


async def test_healthz_answers(api: Any) -> None:
    response = await api.get("/healthz")
    assert response.status == 200 and (await response.json())["status"] == "ok"


async def test_activities_for_a_forgotten_lead_are_410(api: Any, runtime: Any) -> None:
    from handlers.privacy.erasure import forget

    await api.post("/api/leads", json=lead_payload(external_id="crm-f", email="gone@acme.example"), headers=auth())
    assert (await forget(runtime.services, "gone@acme.example", actor="test")).ok
    response = await api.post("/api/leads/crm-f/activities", json=[{"type": "demo_request"}], headers=auth())
    assert response.status == 410 and "forgotten" in (await response.json())["error"]


async def test_a_lead_at_a_reserved_domain_is_refused_with_the_reason(api: Any, db: Database) -> None:
    response = await api.post("/api/leads", json=[lead_payload(email="pat@acme.test")], headers=auth())
    assert response.status == 422
    (problem,) = (await response.json())["problems"]
    assert problem["field"] == "leads[0].email"
    assert problem["message"].startswith("not an email address: the part after the @-sign is a special-use")
    await assert_nothing_written(db)
