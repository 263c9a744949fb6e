"""Each preset out of the box: the vendor's payload in, the lead scored, routed and carded in Slack
(the Slack fake), and the Salesforce presets' optional IP allow-list."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.runtime import Runtime
from bot.slack.component import SlackComponent
from handlers.clock import ManualClock
from scoring.agreement import Agreement
from store.db import Database
from store.models import Lead
from tests.api.intake_helpers import JSON
from tests.api.source_helpers import (
    FIXTURES,
    FLOW_TOKEN,
    MARKETO_TOKEN,
    ORG_ID,
    SECRETS,
    SOURCES,
    XML,
    hubspot_contact,
    hubspot_headers,
    kept_failures,
    salesforce_message,
)
from tests.conftest import make_settings
from tests.factories import make_agreement
from tests.fakes.slack_api import FakeSlack
from tests.timers.conftest import rows

PRESETS: list[dict[str, Any]] = [
    *SOURCES,
    {
        "name": "sf-listed",
        "preset": "salesforce",
        "auth": {"kind": "salesforce", "organization_id": ORG_ID, "allow_ips": ["13.108.0.0/14", "2a02:ec80::/29"]},
    },
]


@pytest.fixture
def agreement() -> Agreement:
    return make_agreement(sources=PRESETS)


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def runtime(
    database_url: str, agreement: Agreement, clock: ManualClock, db: Database, fake_slack: FakeSlack
) -> AsyncIterator[Runtime]:
    settings = make_settings(
        database_url,
        slack_bot_token="xoxb-test-token-not-secret",
        slack_signing_secret="test-signing-secret-not-secret",
        slack_api_url=fake_slack.api_url,
    )
    rt = Runtime(settings=settings, agreement=agreement, clock=clock)
    await rt.prepare()
    rt.settings.with_source_secrets({**SECRETS, "BATON_SOURCE_FLOW": FLOW_TOKEN, "BATON_SOURCE_MARKETO": MARKETO_TOKEN})
    rt.add(SlackComponent(settings, rt.services))
    yield rt
    await rt.db.dispose()


@pytest.fixture
async def api(runtime: Runtime) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(runtime.web_app(), host="127.0.0.1"))
    await client.start_server()
    yield client
    await client.close()


async def carded(runtime: Runtime, fake: FakeSlack, name: str) -> dict[str, Any]:
    """Deliver the outbox to the Slack fake; the lead card posted for ``name``."""
    while await runtime.worker.run_once():
        pass
    cards = [c.body for c in fake.calls_to("chat.postMessage", ok=True) if name in json.dumps(c.body.get("blocks"))]
    assert cards, [c.body.get("text") for c in fake.calls]
    return cards[0]


async def the_lead(runtime: Runtime) -> Lead:
    (lead,) = await rows(runtime.services, Lead)
    assert lead.stage == "mql" and lead.score > 0 and lead.owner is None and lead.routing
    return lead


async def test_hubspot_contact_is_scored_routed_and_carded(
    api: Any, runtime: Runtime, fake_slack: FakeSlack, clock: ManualClock
) -> None:
    body = json.dumps(hubspot_contact()).encode()
    url = str(api.make_url("/api/sources/hubspot"))
    response = await api.post(
        "/api/sources/hubspot", data=body, headers=hubspot_headers(url, body, int(clock.now().timestamp() * 1000))
    )
    assert response.status == 202, await response.text()
    lead = await the_lead(runtime)
    assert lead.external_id == "3234574"
    await carded(runtime, fake_slack, "Codey Huang")


async def test_salesforce_outbound_message_is_scored_routed_and_carded(
    api: Any, runtime: Runtime, fake_slack: FakeSlack
) -> None:
    response = await api.post("/api/sources/salesforce", data=salesforce_message(), headers=XML)
    assert response.status == 200 and "<Ack>true</Ack>" in await response.text()
    assert (await the_lead(runtime)).external_id == "00Q000000000000AAA"
    await carded(runtime, fake_slack, "Pat Prospect")


async def test_salesforce_flow_callout_is_scored_routed_and_carded(
    api: Any, runtime: Runtime, fake_slack: FakeSlack
) -> None:
    body = json.loads((FIXTURES / "salesforce_flow_leads.json").read_text())
    headers = {"Authorization": f"Bearer {FLOW_TOKEN}", **JSON}
    response = await api.post("/api/sources/flow", json=body, headers=headers)
    answer = await response.json()
    assert response.status == 202, answer
    assert answer["results"][0]["external_id"] == "00Q5e00000FlowAAA"
    lead = await the_lead(runtime)
    assert lead.data["source"] == "Partner Referral" and "website" not in lead.data and "phone" not in lead.data
    await carded(runtime, fake_slack, "Robin Flowfield")


async def test_a_flow_callout_may_send_one_lead_without_the_list(api: Any, runtime: Runtime) -> None:
    (lead,) = json.loads((FIXTURES / "salesforce_flow_leads.json").read_text())["leads"]
    headers = {"Authorization": f"Bearer {FLOW_TOKEN}", **JSON}
    response = await api.post("/api/sources/flow", json=lead, headers=headers)
    assert response.status == 202, await response.text()


async def test_marketo_webhook_with_empty_tokens_is_scored_routed_and_carded(
    api: Any, runtime: Runtime, fake_slack: FakeSlack
) -> None:
    body = json.loads((FIXTURES / "marketo_webhook_lead.json").read_text())
    headers = {"Authorization": f"Bearer {MARKETO_TOKEN}", **JSON}
    response = await api.post("/api/sources/marketo", json=body, headers=headers)
    answer = await response.json()
    assert response.status == 202, answer
    lead = await the_lead(runtime)
    # Empty tokens ("") are missing values, not refusals; numbers rendered as text are numbers.
    assert lead.external_id == "1042" and lead.data["employees"] == 800
    assert not {"last_name", "revenue", "phone", "website"} & set(lead.data)
    assert lead.data["campaign"] == "Q4 pipeline webinar"
    await carded(runtime, fake_slack, "Sam")


async def test_marketo_with_a_wrong_token_is_401_and_kept_nowhere(api: Any, db: Database) -> None:
    body = json.loads((FIXTURES / "marketo_webhook_lead.json").read_text())
    response = await api.post("/api/sources/marketo", json=body, headers={"Authorization": "Bearer nope", **JSON})
    assert response.status == 401 and await kept_failures(db) == []


async def test_a_marketo_lead_with_an_empty_email_token_is_kept_as_an_intake_failure(api: Any, db: Database) -> None:
    body = {**json.loads((FIXTURES / "marketo_webhook_lead.json").read_text()), "email": ""}
    headers = {"Authorization": f"Bearer {MARKETO_TOKEN}", **JSON}
    response = await api.post("/api/sources/marketo", json=body, headers=headers)
    assert response.status == 422
    (failure,) = await kept_failures(db)
    assert failure.source == "marketo" and failure.external_id == "1042"


async def test_the_allow_list_refuses_other_addresses_and_keeps_nothing(api: Any, db: Database) -> None:
    response = await api.post("/api/sources/sf-listed", data=salesforce_message(), headers=XML)
    assert response.status == 403 and "<soapenv:Fault>" in await response.text()
    assert await kept_failures(db) == [] and await rows_of_leads(db) == 0


async def test_a_forwarded_address_counts_only_when_the_proxy_header_is_configured(
    api: Any, runtime: Runtime, db: Database
) -> None:
    forwarded = {**XML, "X-Forwarded-For": "203.0.113.9, 13.108.4.20"}
    response = await api.post("/api/sources/sf-listed", data=salesforce_message(), headers=forwarded)
    assert response.status == 403  # not configured: the header is anyone's to write
    runtime.settings.trusted_proxy_header = "X-Forwarded-For"
    response = await api.post("/api/sources/sf-listed", data=salesforce_message(), headers=forwarded)
    assert response.status == 200, await response.text()  # the entry the trusted proxy appended
    spoofed = {**XML, "X-Forwarded-For": "13.108.4.20, 203.0.113.9"}
    response = await api.post("/api/sources/sf-listed", data=salesforce_message(2), headers=spoofed)
    assert response.status == 403


async def rows_of_leads(db: Database) -> int:
    from tests.api.intake_helpers import count

    return await count(db, Lead)
