"""POST /api/sources/{name}: HubSpot's workflow webhook, Salesforce's Outbound Message and mapped JSON
in; leads scored, routed and carded as POST /api/leads does; bad credentials and bad payloads refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from bot.runtime import Runtime
from handlers.clock import ManualClock
from scoring.agreement import Agreement
from store.db import Database
from store.models import AuditEvent, Handoff, Lead, OutboxMessage
from tests.api.intake_helpers import JSON, assert_nothing_written, count, counts
from tests.api.source_helpers import (
    JSON_TOKEN,
    XML,
    assert_no_lead_written,
    baton_headers,
    hubspot_contact,
    hubspot_headers,
    kept_failures,
    salesforce_message,
)
from tests.conftest import auth


def _ms(clock: ManualClock) -> int:
    return int(clock.now().timestamp() * 1000)


async def post_hubspot(api: Any, clock: ManualClock, body: Any, **changes: Any) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode()
    url = str(api.make_url("/api/sources/hubspot"))
    headers = hubspot_headers(url, data, changes.pop("now_ms", _ms(clock)), **changes)
    response = await api.post("/api/sources/hubspot", data=data, headers=headers)
    return response.status, await response.json()


async def post_salesforce(api: Any, body: bytes) -> tuple[int, str]:
    response = await api.post("/api/sources/salesforce", data=body, headers=XML)
    assert response.content_type == "text/xml"
    return response.status, await response.text()


# HubSpot workflow "Send a webhook"


async def test_a_hubspot_workflow_contact_is_scored_routed_and_carded(
    api: Any, db: Database, clock: ManualClock
) -> None:
    status, answer = await post_hubspot(api, clock, hubspot_contact())
    assert status == 202, answer
    (result,) = answer["results"]
    assert result["external_id"] == "3234574" and result["stage"] == "mql" and result["offered"] is True
    async with db.transaction() as session:
        lead = (await session.scalars(select(Lead))).one()
        actors = set(await session.scalars(select(AuditEvent.actor)))
        message = (await session.scalars(select(OutboxMessage))).one()
    assert lead.data["email"] == "codey.huang@hubspot-prospect.example" and lead.data["employees"] == 800
    assert "phone" not in lead.data and "website" not in lead.data  # "" is missing, not a value
    assert actors == {"source:hubspot"}
    assert message.payload["view"]["type"] == "lead_card" and await count(db, Handoff) == 1


async def test_a_hubspot_v3_object_shape_maps_too(api: Any, clock: ManualClock) -> None:
    body = {
        "id": "39580875173",
        "properties": {"email": "john.smith@v3-prospect.example", "firstname": "John", "jobtitle": "VP Sales"},
        "archived": False,
    }
    status, answer = await post_hubspot(api, clock, body)
    assert status == 202 and answer["results"][0]["external_id"] == "39580875173"


async def test_a_hubspot_request_with_a_wrong_signature_is_refused_and_nothing_kept(
    api: Any, db: Database, clock: ManualClock
) -> None:
    status, answer = await post_hubspot(api, clock, hubspot_contact(), secret="not-the-client-secret")
    assert status == 401 and "X-HubSpot-Signature-v3" in answer["error"]
    await assert_nothing_written(db)


async def test_a_hubspot_request_older_than_five_minutes_is_refused(api: Any, db: Database, clock: ManualClock) -> None:
    status, _ = await post_hubspot(api, clock, hubspot_contact(), now_ms=_ms(clock) - 5 * 60 * 1000 - 1)
    assert status == 401
    status, _ = await post_hubspot(api, clock, hubspot_contact(), now_ms=_ms(clock) - 4 * 60 * 1000)
    assert status == 202


async def test_a_replayed_hubspot_request_is_refused(api: Any, db: Database, clock: ManualClock) -> None:
    data = json.dumps(hubspot_contact()).encode()
    headers = hubspot_headers(str(api.make_url("/api/sources/hubspot")), data, _ms(clock))
    first = await api.post("/api/sources/hubspot", data=data, headers=headers)
    again = await api.post("/api/sources/hubspot", data=data, headers=headers)
    assert first.status == 202 and again.status == 401
    assert "replay" in (await again.json())["error"]


async def test_a_hubspot_contact_without_an_email_names_the_problem_and_is_kept_as_an_intake_failure(
    api: Any, db: Database, clock: ManualClock
) -> None:
    status, answer = await post_hubspot(api, clock, hubspot_contact(email="", numemployees="lots"))
    assert status == 422
    problems = {p["field"]: p["message"] for p in answer["problems"]}
    assert problems["email"].startswith("required") and "properties.email" in problems["email"]
    assert "employees" in problems
    await assert_no_lead_written(db)
    (failure,) = await kept_failures(db)
    assert answer["failures"] == [failure.id] and failure.source == "hubspot" and failure.external_id == "3234574"
    assert {p["field"] for p in failure.problems} == {"email", "employees"}


async def test_a_source_without_its_secret_set_answers_503(api: Any, runtime: Runtime, clock: ManualClock) -> None:
    runtime.settings.with_source_secrets({})
    status, answer = await post_hubspot(api, clock, hubspot_contact())
    assert status == 503 and "BATON_SOURCE_HUBSPOT_SECRET" in answer["error"]


# Salesforce Outbound Message


async def test_a_salesforce_outbound_message_is_taken_and_acknowledged(api: Any, db: Database) -> None:
    status, text = await post_salesforce(api, salesforce_message())
    assert status == 200
    assert "<Ack>true</Ack>" in text and 'xmlns="http://soap.sforce.com/2005/09/outbound"' in text
    assert "notificationsResponse" in text
    async with db.transaction() as session:
        lead = (await session.scalars(select(Lead))).one()
        actors = set(await session.scalars(select(AuditEvent.actor)))
    assert lead.external_id == "00Q000000000000AAA" and lead.stage == "mql"
    assert lead.data["revenue"] == 25000000.0 and lead.data["source"] == "Web" and "phone" not in lead.data
    assert actors == {"source:salesforce"} and await count(db, Handoff) == 1


async def test_a_batch_of_100_notifications_is_one_acknowledged_request(api: Any, db: Database) -> None:
    status, text = await post_salesforce(api, salesforce_message(100))
    assert status == 200 and "<Ack>true</Ack>" in text
    assert await count(db, Lead) == 100


async def test_101_notifications_are_a_fault(api: Any, db: Database) -> None:
    status, text = await post_salesforce(api, salesforce_message(101))
    assert status == 400 and "<faultcode>soapenv:Client</faultcode>" in text and "at most 100" in text
    await assert_nothing_written(db)


async def test_another_organizations_message_is_refused_with_401(api: Any, db: Database) -> None:
    status, text = await post_salesforce(api, salesforce_message(org_id="00D999999999999EAA"))
    assert status == 401 and "OrganizationId" in text and "<Ack>" not in text
    await assert_nothing_written(db)


async def test_the_15_character_organization_id_matches_the_18_character_one(api: Any, agreement: Agreement) -> None:
    # The source is configured with the 18-character id; Salesforce's setup page shows 15.
    status, _ = await post_salesforce(api, salesforce_message(org_id="00D000000000062"))
    assert status == 200


async def test_an_unmappable_notification_is_a_fault_naming_it_and_nothing_is_stored(api: Any, db: Database) -> None:
    body = salesforce_message(3).replace(b"<sf:Email>pat.prospect2@sf-prospect.example</sf:Email>", b"")
    status, text = await post_salesforce(api, body)
    assert status == 400 or status == 422
    assert "<soapenv:Fault>" in text and "Notification[2].email: required" in text
    await assert_no_lead_written(db)  # Salesforce retries the whole message until it is acknowledged
    (failure,) = await kept_failures(db)
    assert failure.source == "salesforce" and failure.external_id == "00Q000000000002AAA"


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><x>&lol2;</x>',
        b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>',
        b"<not-closed>",
        b'{"json": "is not SOAP"}',
        b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body/></soapenv:Envelope>',
        b"<a>" * 50 + b"</a>" * 50,
    ],
)
async def test_hostile_xml_is_a_fault_and_nothing_is_stored(api: Any, db: Database, body: bytes) -> None:
    status, text = await post_salesforce(api, body)
    assert status == 400 and "<soapenv:Fault>" in text and "<faultstring>" in text
    await assert_nothing_written(db)


async def test_salesforce_sending_json_is_told_the_content_type(api: Any, db: Database) -> None:
    response = await api.post("/api/sources/salesforce", data=salesforce_message(), headers=JSON)
    assert response.status == 415 and "text/xml" in await response.text()
    await assert_nothing_written(db)


# Mapped JSON sources


def form_submission(**contact: Any) -> dict[str, Any]:
    return {
        "submission": {
            "id": 9001,
            "contact": {"email": "sam@forms-prospect.example", "first": "Sam", "role": "VP Sales", **contact},
            "company": {"name": "Forms Prospect", "size": 800, "sector": "software", "country": ""},
            "utm": {"medium": "cpc"},
            "events": [{"kind": "webinar_attended", "at": "2026-11-20T10:00:00Z"}],
            "tracking": {"unknown": "keys are ignored"},
        }
    }


async def test_a_mapped_json_source_takes_fields_custom_activities_and_defaults(api: Any, db: Database) -> None:
    headers = {"Authorization": f"Bearer {JSON_TOKEN}", **JSON}
    response = await api.post("/api/sources/forms", json=form_submission(), headers=headers)
    assert response.status == 202, await response.text()
    async with db.transaction() as session:
        lead = (await session.scalars(select(Lead))).one()
    assert lead.external_id == "9001" and lead.data["custom"] == {"utm_medium": "cpc"}
    assert lead.data["source"] == "website form" and lead.data["country"] == "US"  # "" took the default
    assert lead.score > 0 and "webinar" in json.dumps(lead.explanation).lower()


async def test_the_intake_token_does_not_open_a_source(api: Any, db: Database) -> None:
    response = await api.post("/api/sources/forms", json=form_submission(), headers={**auth(), **JSON})
    assert response.status == 401 and "BATON_SOURCE_FORMS_TOKEN" in (await response.json())["error"]
    await assert_nothing_written(db)


async def test_a_baton_signed_source_takes_a_signed_request_once(api: Any, clock: ManualClock) -> None:
    body = json.dumps({"id": "s-1", "email": "signed@signed-prospect.example", "noise": [1, 2]}).encode()
    headers = baton_headers(body, int(clock.now().timestamp()))
    first = await api.post("/api/sources/signed", data=body, headers=headers)
    again = await api.post("/api/sources/signed", data=body, headers=headers)
    wrong = await api.post("/api/sources/signed", data=body, headers=baton_headers(body, 1, secret="nope"))
    assert (first.status, again.status, wrong.status) == (202, 401, 401)


async def test_an_unknown_source_is_404(api: Any, db: Database) -> None:
    response = await api.post("/api/sources/pipedrive", json={}, headers=JSON)
    assert response.status == 404 and "pipedrive" in (await response.json())["error"]
    await assert_nothing_written(db)


async def test_a_batch_with_one_bad_record_names_it_and_stores_none(api: Any, db: Database) -> None:
    headers = {"Authorization": f"Bearer {JSON_TOKEN}", **JSON}
    good, bad = form_submission(), form_submission(email="not an address")
    bad["submission"]["id"] = 9002
    response = await api.post("/api/sources/forms", json=[good, bad, "text"], headers=headers)
    answer = await response.json()
    assert response.status == 422
    assert {p["field"] for p in answer["problems"]} == {"[1].email", "[2]"}
    await assert_no_lead_written(db)  # a json source is all or nothing unless per_lead = true
    assert [f.external_id for f in await kept_failures(db)] == ["9002", None]


async def test_each_source_is_counted_in_the_metrics(api: Any, clock: ManualClock) -> None:
    await post_hubspot(api, clock, hubspot_contact())
    await post_hubspot(api, clock, hubspot_contact(), secret="wrong")
    await post_salesforce(api, salesforce_message(2))
    text = await (await api.get("/metrics")).text()
    assert 'baton_source_requests_total{outcome="accepted",source="hubspot"} 1.0' in text
    assert 'baton_source_requests_total{outcome="unauthorized",source="hubspot"} 1.0' in text
    assert 'baton_source_leads_total{source="salesforce"} 2.0' in text


async def test_a_refused_source_request_leaves_the_counts_as_they_were(api: Any, db: Database) -> None:
    before = await counts(db)
    await post_salesforce(api, salesforce_message(org_id="00D999999999999EAA"))
    assert await counts(db) == before


async def test_an_unknown_activity_type_is_named_where_the_sender_put_it(api: Any, db: Database) -> None:
    headers = {"Authorization": f"Bearer {JSON_TOKEN}", **JSON}
    body = form_submission()
    body["submission"]["events"] = [{"kind": "trade_show", "at": "2026-11-20T10:00:00Z"}]
    response = await api.post("/api/sources/forms", json=[body], headers=headers)
    answer = await response.json()
    assert response.status == 422 and answer["problems"][0]["field"] == "[0].activities[0].type"
    assert "unknown event type 'trade_show'" in answer["problems"][0]["message"]
    await assert_no_lead_written(db)
