"""Property-based sources: whatever a source is sent, the answer is never a 5xx or a traceback, it
comes in the source's own shape (JSON, or SOAP for Salesforce), and a refused request writes nothing."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from handlers.clock import ManualClock
from store.db import Database
from store.models import OutboxMessage
from tests.api.intake_helpers import counts
from tests.api.source_helpers import (
    FIXTURES,
    FLOW_TOKEN,
    MARKETO_TOKEN,
    XML,
    hubspot_contact,
    hubspot_headers,
    salesforce_message,
)
from tests.api.test_intake_fuzz import FUZZ, hostile_text, json_values


async def check(
    api: Any, db: Database, caplog: pytest.LogCaptureFixture, path: str, body: bytes, headers: dict[str, str]
) -> str:
    caplog.clear()
    before = await lead_counts(db)
    response = await api.post(path, data=body, headers=headers)
    text = await response.text()
    assert response.status < 500, text
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    if response.status >= 400:
        # Refused records are kept as intake failures (with one alert to the admins); no lead is written.
        assert await lead_counts(db) == before, text
    return text


async def lead_counts(db: Database) -> dict[str, int]:
    found = await counts(db)
    async with db.transaction() as session:
        alerts = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.dedupe_key.like("%delivery-alert:intake:%"))
        )
    return {**found, "OutboxMessage": found["OutboxMessage"] - int(alerts or 0)}


properties = st.dictionaries(
    st.sampled_from(["email", "firstname", "jobtitle", "numemployees", "annualrevenue", "country", "website"])
    | hostile_text,
    json_values | st.fixed_dictionaries({"value": json_values}),
    max_size=6,
)


@FUZZ
@given(value=json_values | properties.map(lambda p: {**hubspot_contact(), "properties": p}))
async def test_any_signed_hubspot_body_is_answered_without_a_5xx(
    api: Any, db: Database, clock: ManualClock, caplog: pytest.LogCaptureFixture, value: Any
) -> None:
    body = json.dumps(value).encode()
    headers = hubspot_headers(str(api.make_url("/api/sources/hubspot")), body, int(clock.now().timestamp() * 1000))
    json.loads(await check(api, db, caplog, "/api/sources/hubspot", body, headers))


fields = st.sampled_from(["Email", "NumberOfEmployees", "AnnualRevenue", "Company", "Title", "Id"])
xml_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30).map(
    lambda t: t.replace("&", "&amp;").replace("<", "&lt;")
)


@FUZZ
@given(
    body=st.binary(max_size=300)
    | st.builds(
        lambda n, changes: salesforce_message(n, **changes),
        st.integers(1, 3),
        st.dictionaries(fields, xml_text | st.none(), max_size=3),
    )
)
async def test_any_salesforce_body_is_answered_in_soap_without_a_5xx(
    api: Any, db: Database, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    text = await check(api, db, caplog, "/api/sources/salesforce", body, XML)
    assert "<Ack>true</Ack>" in text or "<soapenv:Fault>" in text


marketo_fields = st.dictionaries(
    st.sampled_from(["id", "email", "firstName", "numberOfEmployees", "annualRevenue", "country", "website"])
    | hostile_text,
    json_values,
    max_size=6,
)


def marketo_lead(changes: dict[str, Any]) -> dict[str, Any]:
    lead: dict[str, Any] = json.loads((FIXTURES / "marketo_webhook_lead.json").read_text())
    return {**lead, **changes}


@FUZZ
@given(
    value=json_values
    | marketo_fields.map(marketo_lead)
    | st.lists(marketo_fields.map(marketo_lead), max_size=3).map(lambda leads: {"leads": leads})
)
async def test_any_marketo_or_flow_body_is_answered_without_a_5xx(
    api: Any, db: Database, caplog: pytest.LogCaptureFixture, value: Any
) -> None:
    body = json.dumps(value).encode()
    for name, token in (("marketo", MARKETO_TOKEN), ("flow", FLOW_TOKEN)):
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        json.loads(await check(api, db, caplog, f"/api/sources/{name}", body, headers))
