"""[[crm_actions]]: owner and status written back to HubSpot and Salesforce exactly as they expect,
through the outbox: tokens fetched, cached and refreshed; 429, 5xx and 4xx retried, then parked."""

from __future__ import annotations

import asyncio
import json
import tomllib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from click.testing import CliRunner
from sqlalchemy import select, update

from bot.cli import cli
from bot.components import add_components
from bot.crm import CrmSender, add_crm, vendor_error
from bot.runtime import Runtime
from bot.settings import ConfigError, load_settings
from handlers.clock import ManualClock
from handlers.handoff.accept import accept
from handlers.intake.leads import LeadIn, ingest
from handlers.intake.outcomes import OutcomeIn, record_outcome
from handlers.messaging.delivery import DeliveryWorker
from handlers.messaging.settle import RetryPolicy
from handlers.services import Services
from handlers.views.actions import ButtonData
from scoring.agreement import Agreement
from scoring.agreement_check import AgreementError
from store.db import Database
from store.models import Handoff, OutboxMessage
from tests.conftest import make_settings
from tests.factories import EXAMPLE_CONFIG, agreement_data, lead_payload, make_agreement
from tests.fakes.crm_apis import HubSpotFake, SalesforceFake

HUBSPOT_TOKEN = "pat-na1-00000000-0000-0000-0000-000000000000"
SF_ID, SF_SECRET = "3MVG9_test_client_id", "test-client-secret-not-secret"
ALICE_HS, BOB_HS = "512", "513"
ALICE_SF, BOB_SF = "005000000000001AAA", "005000000000002AAA"


def crm_agreement(actions: list[dict[str, Any]], crm_ids: dict[str, str | None]) -> Agreement:
    data = agreement_data(crm_actions=actions)
    for team in data["teams"]:
        for rep in team["reps"]:
            if crm_ids.get(rep["email"]):
                rep["crm_id"] = crm_ids[rep["email"]]
    return make_agreement(**{k: v for k, v in data.items() if k in ("teams", "crm_actions")})


@pytest.fixture
async def hubspot() -> AsyncIterator[HubSpotFake]:
    fake = HubSpotFake(HUBSPOT_TOKEN, owners={ALICE_HS, BOB_HS}, contacts={"901", "902", "903"})
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def salesforce() -> AsyncIterator[SalesforceFake]:
    fake = SalesforceFake(SF_ID, SF_SECRET, users={ALICE_SF, BOB_SF}, leads={"00Q000000000001", "00Q000000000002"})
    await fake.start()
    yield fake
    await fake.close()


def hubspot_services(db: Database, clock: ManualClock, fake: HubSpotFake, **extra: Any) -> Services:
    action = {"name": "hubspot", "preset": "hubspot", "api_base": fake.url, **extra}
    agreement = crm_agreement([action], {"alice@example.com": ALICE_HS, "bob@example.com": BOB_HS})
    return Services(db=db, agreement=agreement, clock=clock)


def salesforce_services(
    db: Database, clock: ManualClock, fake: SalesforceFake, crm_ids: dict[str, str | None] | None = None
) -> Services:
    action = {"name": "salesforce", "preset": "salesforce", "instance_url": fake.url}
    ids = crm_ids if crm_ids is not None else {"alice@example.com": ALICE_SF, "bob@example.com": BOB_SF}
    return Services(db=db, agreement=crm_agreement([action], ids), clock=clock)


ENV = {
    "BATON_CRM_HUBSPOT_TOKEN": HUBSPOT_TOKEN,
    "BATON_CRM_SALESFORCE_CLIENT_ID": SF_ID,
    "BATON_CRM_SALESFORCE_CLIENT_SECRET": SF_SECRET,
}


def worker_for(services: Services, max_age: timedelta = timedelta(days=3)) -> tuple[DeliveryWorker, CrmSender]:
    sender = CrmSender(services.agreement, services.clock, ENV)
    return DeliveryWorker(services, {"crm": sender}, policy=RetryPolicy(max_age=max_age)), sender


async def accepted_lead(services: Services, external_id: str) -> str:
    """Ingest a qualifying lead, accept it as the rep it was offered to; that rep's email."""
    (outcome,) = await ingest(services, [LeadIn.model_validate(lead_payload(external_id=external_id))])
    async with services.db.transaction() as session:
        handoff = (await session.scalars(select(Handoff).where(Handoff.lead_id == outcome.lead_id))).one()
    assert handoff.rep is not None
    assert (await accept(services, ButtonData(outcome.lead_id, handoff.id), handoff.rep, source="test")).ok
    return handoff.rep


async def crm_rows(db: Database) -> list[OutboxMessage]:
    async with db.read() as session:
        query = select(OutboxMessage).where(OutboxMessage.platform == "crm").order_by(OutboxMessage.id)
        return list((await session.scalars(query)).all())


async def test_hubspot_gets_the_owner_and_lead_status_exactly_as_its_api_expects(
    db: Database, clock: ManualClock, hubspot: HubSpotFake
) -> None:
    services = hubspot_services(db, clock, hubspot)
    rep = await accepted_lead(services, "901")
    worker, sender = worker_for(services)
    await worker.run_once()
    await sender.close()
    (request,) = hubspot.received
    assert request.method == "PATCH" and request.path == "/crm/v3/objects/contacts/901"
    assert request.headers["Authorization"] == f"Bearer {HUBSPOT_TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    owner = ALICE_HS if rep == "alice@example.com" else BOB_HS
    assert request.json() == {"properties": {"hubspot_owner_id": owner, "hs_lead_status": "OPEN"}}
    assert hubspot.properties["901"] == {"hubspot_owner_id": owner, "hs_lead_status": "OPEN"}
    assert [r.status for r in await crm_rows(db)] == ["sent"]
    (row,) = await crm_rows(db)
    assert HUBSPOT_TOKEN not in json.dumps(row.payload)  # the secret stays in the environment


async def test_a_hubspot_429_pauses_the_action_for_its_retry_after_then_delivers(
    db: Database, clock: ManualClock, hubspot: HubSpotFake
) -> None:
    services = hubspot_services(db, clock, hubspot)
    hubspot.script.append(hubspot.rate_limited("30"))
    await accepted_lead(services, "901")
    worker, sender = worker_for(services)
    await worker.run_once()
    (row,) = await crm_rows(db)
    assert row.status == "pending" and (row.last_error or "").startswith("http_429: CRM is rate limiting")
    assert "RATE_LIMIT: You have reached your secondly limit." in (row.last_error or "")
    await worker.run_once()
    assert len(hubspot.received) == 1  # nothing is sent into the pause
    clock.advance(timedelta(seconds=31))
    await worker.run_once()
    await sender.close()
    assert [r.status for r in await crm_rows(db)] == ["sent"] and len(hubspot.received) == 2


async def test_a_hubspot_validation_error_is_retried_then_parked_with_hubspots_reason(
    db: Database, clock: ManualClock, hubspot: HubSpotFake, database_url: str
) -> None:
    services = hubspot_services(db, clock, hubspot, status_map={"sal": "WORKING"})  # not a HubSpot option
    await accepted_lead(services, "901")
    worker, sender = worker_for(services, max_age=timedelta(minutes=15))
    await worker.run_once()
    for _ in range(3):
        clock.advance(timedelta(minutes=10))
        await worker.run_once()
    await sender.close()
    (row,) = await crm_rows(db)
    assert row.status == "failed" and row.attempts >= 2 and len(hubspot.received) == row.attempts
    assert (row.last_error or "").startswith("http_400: CRM refused the write from 127.0.0.1")
    assert "VALIDATION_ERROR" in (row.last_error or "") and "WORKING was not one of the allowed options" in (
        row.last_error or ""
    )
    result = await asyncio.to_thread(
        CliRunner().invoke, cli, ["outbox", "list", "--status", "failed"], env={"BATON_DATABASE_URL": database_url}
    )
    assert result.exit_code == 0, result.output
    assert "VALIDATION_ERROR" in result.output


async def test_salesforce_gets_a_client_credentials_token_reuses_it_and_refreshes_it_after_a_401(
    db: Database, clock: ManualClock, salesforce: SalesforceFake
) -> None:
    services = salesforce_services(db, clock, salesforce)
    rep = await accepted_lead(services, "00Q000000000001")
    worker, sender = worker_for(services)
    await worker.run_once()
    (token_request,) = salesforce.token_requests
    assert token_request == {"grant_type": "client_credentials", "client_id": SF_ID, "client_secret": SF_SECRET}
    (request,) = salesforce.received
    assert request.method == "PATCH" and request.path == "/services/data/v62.0/sobjects/Lead/00Q000000000001"
    token = request.headers["Authorization"].removeprefix("Bearer ")
    assert token in salesforce.tokens
    owner = ALICE_SF if rep == "alice@example.com" else BOB_SF
    assert request.json() == {"OwnerId": owner, "Status": "Working - Contacted"}
    assert salesforce.fields["00Q000000000001"] == {"OwnerId": owner, "Status": "Working - Contacted"}

    await accepted_lead(services, "00Q000000000002")
    await worker.run_once()
    assert sender.token_fetches == 1  # the cached token served the second write

    salesforce.expire_sessions()  # the session times out: the next write gets 401 INVALID_SESSION_ID
    await record_outcome(services, "00Q000000000001", OutcomeIn(outcome="lost"))
    # lost has no Status in the preset's map: the owner is written alone.
    await worker.run_once()
    await sender.close()
    assert sender.token_fetches == 2
    statuses = [r.headers["Authorization"] != f"Bearer {token}" for r in salesforce.received]
    assert statuses == [False, False, False, True]  # the refused try used the old token, the retry a new one
    assert salesforce.received[-1].json() == {"OwnerId": owner}
    assert [r.status for r in await crm_rows(db)] == ["sent", "sent", "sent"]


async def test_salesforce_token_is_fetched_again_when_it_expires(
    db: Database, clock: ManualClock, salesforce: SalesforceFake
) -> None:
    services = salesforce_services(db, clock, salesforce)
    await accepted_lead(services, "00Q000000000001")
    worker, sender = worker_for(services)
    await worker.run_once()
    clock.advance(timedelta(minutes=31))  # past the preset's 30-minute token lifetime
    await accepted_lead(services, "00Q000000000002")
    await worker.run_once()
    await sender.close()
    assert sender.token_fetches == 2 and len(salesforce.received) == 2
    assert [r.status for r in await crm_rows(db)] == ["sent", "sent"]


async def test_salesforce_5xx_html_and_picklist_errors_are_retried_then_parked_with_the_reason(
    db: Database, clock: ManualClock, salesforce: SalesforceFake
) -> None:
    action = {
        "name": "salesforce",
        "preset": "salesforce",
        "instance_url": salesforce.url,
        "status_map": {"sal": "Working"},  # not in the Lead Status picklist
    }
    agreement = crm_agreement([action], {"alice@example.com": ALICE_SF, "bob@example.com": BOB_SF})
    services = Services(db=db, agreement=agreement, clock=clock)
    salesforce.script.append(salesforce.unavailable())
    await accepted_lead(services, "00Q000000000001")
    worker, sender = worker_for(services, max_age=timedelta(minutes=15))
    await worker.run_once()
    (row,) = await crm_rows(db)
    assert row.status == "pending"
    host = salesforce.url.removeprefix("http://")
    assert row.last_error == f"http_503: CRM error from {host}: Service Unavailable 503 Service Unavailable"
    for _ in range(3):
        clock.advance(timedelta(minutes=10))
        await worker.run_once()
    await sender.close()
    (row,) = await crm_rows(db)
    assert row.status == "failed"
    assert "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: Lead Status: bad value for restricted picklist field: Working" in (
        row.last_error or ""
    )
    assert "(fields: Status)" in (row.last_error or "")


async def test_bad_client_credentials_are_retried_with_the_token_endpoints_reason(
    db: Database, clock: ManualClock, salesforce: SalesforceFake
) -> None:
    services = salesforce_services(db, clock, salesforce)
    await accepted_lead(services, "00Q000000000001")
    sender = CrmSender(services.agreement, clock, {**ENV, "BATON_CRM_SALESFORCE_CLIENT_SECRET": "wrong"})
    worker = DeliveryWorker(services, {"crm": sender}, policy=RetryPolicy(max_age=timedelta(days=3)))
    await worker.run_once()
    await sender.close()
    (row,) = await crm_rows(db)
    assert row.status == "pending" and not salesforce.received
    assert (row.last_error or "").startswith("token: http_400 from")
    assert "invalid_client: invalid client credentials" in (row.last_error or "") and "wrong" not in (
        row.last_error or ""
    )


async def test_an_owner_without_a_crm_id_is_parked_at_once_and_a_retry_after_the_fix_writes_it(
    db: Database, clock: ManualClock, salesforce: SalesforceFake
) -> None:
    services = salesforce_services(db, clock, salesforce, crm_ids={})
    rep = await accepted_lead(services, "00Q000000000001")
    worker, sender = worker_for(services)
    await worker.run_once()
    await sender.close()
    (row,) = await crm_rows(db)
    assert row.status == "failed" and not salesforce.received
    assert row.last_error == f"no CRM user id for {rep}: add crm_id to that person in the agreement"
    # The admin adds the crm_id, restarts, and sends the parked row again.
    fixed = salesforce_services(db, clock, salesforce)
    async with db.transaction() as session:  # what `baton outbox retry` does, at the test's clock
        await session.execute(
            update(OutboxMessage).values(status="pending", attempts=0, next_attempt_at=clock.now(), error_code=None)
        )
    worker, sender = worker_for(fixed)
    await worker.run_once()
    await sender.close()
    owner = ALICE_SF if rep == "alice@example.com" else BOB_SF
    assert [r.status for r in await crm_rows(db)] == ["sent"]
    assert salesforce.received[-1].json() == {"OwnerId": owner, "Status": "Working - Contacted"}


def test_the_agreement_refuses_unknown_placeholders_and_an_incomplete_preset() -> None:
    bad = [
        {"name": "x", "events": ["lead.accepted"], "url": "https://crm.example/{contact}"},
        {"name": "x", "events": ["lead.accepted"], "url": "https://crm.example/", "body": {"a": "{nope}"}},
        {"name": "x", "events": ["lead.accepted"], "url": "{external_id}"},
        {"name": "x", "events": ["lead.accepted"], "url": "https://crm.example/", "headers": {"A": "{crm_id}"}},
        {"name": "x", "events": ["lead.bought"], "url": "https://crm.example/"},
        {"name": "x", "preset": "salesforce"},
        {"name": "x", "preset": "hubspot", "status_map": {"closing": "OPEN"}},
        {"name": "x", "preset": "hubspot", "token_env": "HUBSPOT_TOKEN"},
        {"name": "x", "events": ["lead.accepted"], "url": "https://crm.example/", "headers": {"A": "${HOME}"}},
    ]
    for action in bad:
        with pytest.raises(AgreementError):
            make_agreement(crm_actions=[action])
    with pytest.raises(AgreementError, match="unique"):
        make_agreement(crm_actions=[{"name": "h", "preset": "hubspot"}, {"name": "h", "preset": "hubspot"}])


async def test_serve_adds_the_crm_sender_and_refuses_to_start_without_its_secrets(database_url: str) -> None:
    agreement = make_agreement(
        crm_actions=[{"name": "sf", "preset": "salesforce", "instance_url": "https://acme.my.salesforce.com"}]
    )
    runtime = Runtime(settings=make_settings(database_url), agreement=agreement)
    with pytest.raises(ConfigError) as refused:
        add_crm(runtime, secrets={"BATON_CRM_SALESFORCE_CLIENT_ID": SF_ID})
    assert "BATON_CRM_SALESFORCE_CLIENT_SECRET: required by [[crm_actions]] 'sf'" in str(refused.value.problems)
    add_crm(runtime, secrets=ENV)
    assert "crm" in runtime.worker.senders
    await runtime.db.dispose()


def test_vendor_errors_are_told_in_the_vendors_words() -> None:
    hubspot = '{"status":"error","message":"resource not found","correlationId":"x","category":"OBJECT_NOT_FOUND"}'
    assert vendor_error(hubspot, "application/json") == "OBJECT_NOT_FOUND: resource not found"
    salesforce = '[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]'
    assert vendor_error(salesforce, "application/json") == "INVALID_SESSION_ID: Session expired or invalid"
    assert vendor_error("<h1>Bad  Gateway</h1>", "text/html") == "Bad Gateway"


async def test_the_settings_read_the_crm_secrets_and_serve_plugs_the_sender_in(database_url: str) -> None:
    loaded = load_settings(environ={**ENV, "HOME": "/root", "BATON_DATABASE_URL": database_url})
    assert loaded.crm_secrets() == ENV  # only BATON_CRM_* names are kept
    agreement = make_agreement(crm_actions=[{"name": "hs", "preset": "hubspot"}])
    runtime = Runtime(settings=make_settings(database_url).with_crm_secrets(ENV), agreement=agreement)
    add_components(runtime)
    assert "crm" in runtime.worker.senders
    await runtime.db.dispose()


async def test_a_custom_action_fills_its_templates_and_reads_its_secret_when_sending(
    db: Database, clock: ManualClock
) -> None:
    seen: list[tuple[str, str, dict[str, str], Any]] = []

    async def receive(request: web.Request) -> web.Response:
        seen.append((request.method, request.raw_path, dict(request.headers), await request.json()))
        return web.json_response({"ok": True}, status=201)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", receive)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    action = {
        "name": "custom",
        "events": ["lead.qualified", "lead.accepted"],
        "method": "POST",
        "url": f"http://127.0.0.1:{server.port}/leads/{{external_id}}/events",
        "headers": {"Authorization": "Token ${BATON_CRM_CUSTOM}", "X-Event": "baton"},
        "body": {"owner": "{crm_id}", "status": "{crm_status}", "note": "{event} for lead {lead_id}", "keep": [1]},
        "status_map": {"mql": "new", "sal": "working"},
    }
    services = Services(
        db=db, agreement=crm_agreement([action], {"alice@example.com": "A-1", "bob@example.com": "B-1"}), clock=clock
    )
    rep = await accepted_lead(services, "a/b c")  # a path separator and a space in the CRM's id
    sender = CrmSender(services.agreement, clock, {"BATON_CRM_CUSTOM": "s3cret-token-value"})
    worker = DeliveryWorker(services, {"crm": sender}, policy=RetryPolicy(max_age=timedelta(days=3)))
    await worker.run_once()
    await sender.close()
    await server.close()
    assert [r.status for r in await crm_rows(db)] == ["sent", "sent"]
    (m1, path1, headers1, qualified), (_m2, _path2, _headers2, accepted_body) = seen
    assert (m1, path1) == ("POST", "/leads/a%2Fb%20c/events")
    assert headers1["Authorization"] == "Token s3cret-token-value" and headers1["X-Event"] == "baton"
    assert qualified["status"] == "new" and "owner" not in qualified and qualified["keep"] == [1]
    assert qualified["note"].startswith("lead.qualified for lead ")
    owner = "A-1" if rep == "alice@example.com" else "B-1"
    assert accepted_body["owner"] == owner and accepted_body["status"] == "working"


def test_the_commented_example_in_baton_example_toml_loads_when_uncommented() -> None:
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    block = text[text.index("# [[crm_actions]]") : text.index("# Sources: CRMs posting")].splitlines()
    lines = [line.removeprefix("# ").split("  #")[0] if line != "#" else "" for line in block]
    data = tomllib.loads("\n".join(lines))
    names = [a.name for a in make_agreement(crm_actions=data["crm_actions"]).crm_actions]
    assert names == ["hubspot", "salesforce", "custom-crm"]
