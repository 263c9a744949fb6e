"""Hostile Slack, Teams and intake requests leave no email, phone number, token or request body in
the log at info level or above, and no traceback: the lines a production log (JSON, INFO) keeps."""

from __future__ import annotations

import io
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.logs import setup_logging
from bot.runtime import Runtime
from bot.slack.component import SlackComponent
from bot.teams.component import TeamsComponent
from handlers.clock import ManualClock
from handlers.intake.leads import LeadIn, ingest
from scoring.agreement import Agreement
from store.db import Database
from tests.conftest import auth, make_settings
from tests.factories import lead_payload
from tests.fakes.bot_connector import FakeConnector
from tests.fakes.slack_api import FakeSlack
from tests.teams.signing import APP_ID, Jwks, bearer, claims, mint, rsa_key

SIGNING_SECRET = "log-scan-signing-secret"
BOT_TOKEN = "xoxb-log-scan-token-not-secret"
TENANT = "tenant-log-scan"
EMAIL = "zelda.q@acme-widgets.example"
PHONE = "+1 (415) 555-0199"
# What must never show up: the email in any encoding, the phone's digits, tokens of any kind.
LEAKS = re.compile(
    r"zelda|acme-widgets|555.?0199|5550199|xoxb-|eyJ[A-Za-z0-9_-]{10,}|Bearer\s+\S|" + SIGNING_SECRET, re.IGNORECASE
)


@dataclass
class World:
    client: TestClient[web.Request, web.Application]
    connector: FakeConnector
    key: Any


@pytest.fixture
def production_log() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    setup_logging("json", "INFO", secrets=[SIGNING_SECRET, BOT_TOKEN])
    stream = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    yield stream
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


@pytest.fixture
async def world(database_url: str, agreement: Agreement, clock: ManualClock, db: Database) -> AsyncIterator[World]:
    fake_slack = await FakeSlack().start()
    connector = await FakeConnector().start()
    key = rsa_key()
    jwks = await Jwks(key).start()
    settings = make_settings(
        database_url,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.api_url,
        teams_enabled=True,
        microsoft_app_id=APP_ID,
        microsoft_app_password="not-a-real-secret",
        microsoft_app_tenant_id=TENANT,
    )
    runtime = Runtime(settings=settings, agreement=agreement, clock=clock)
    await runtime.prepare()
    slack = SlackComponent(settings, runtime.services)
    teams = TeamsComponent(settings, runtime.services, keys=jwks.key_source())
    runtime.add(slack)
    runtime.add(teams)
    await ingest(runtime.services, [LeadIn.model_validate(lead_payload(email=EMAIL, phone=PHONE))])
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(runtime.web_app(), host="127.0.0.1"))
    await client.start_server()
    yield World(client, connector, key)
    await slack.idle(5)
    await client.close()
    await teams.stop()
    await jwks.stop()
    await connector.close()
    await fake_slack.stop()
    await runtime.db.dispose()


def slack_click() -> str:
    """A click as Slack sends it: the card's blocks ride along, so the lead's details are in the body."""
    card = f"*Zelda Q* · {EMAIL} · {PHONE}"
    payload = {
        "type": "block_actions",
        "user": {"id": "U0ALICE001"},
        "team": {"id": "T0BATON"},
        "actions": [{"action_id": "baton_accept", "value": "v1:1:1", "block_id": "b1"}],
        "message": {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": card}}]},
    }
    return urlencode({"payload": json.dumps(payload)})


def slack_signed(body: str, secret: str = SIGNING_SECRET, at: float | None = None) -> dict[str, str]:
    import hashlib
    import hmac

    timestamp = str(int(at if at is not None else time.time()))
    signature = "v0=" + hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


def teams_message(connector: FakeConnector, tenant: str) -> dict[str, Any]:
    return {
        "type": "message",
        "id": "m1",
        "channelId": "msteams",
        "serviceUrl": connector.url,
        "from": {"id": "29:aad-zelda", "name": EMAIL},
        "recipient": {"id": "28:baton-bot"},
        "conversation": {"id": "a:personal-zelda", "conversationType": "personal", "tenantId": tenant},
        "channelData": {"tenant": {"id": tenant}},
        "text": f"call me on {PHONE} or mail {EMAIL}",
    }


async def hostile_requests(world: World) -> list[int]:
    client, connector, key = world.client, world.connector, world.key
    click = slack_click()
    statuses = [
        # Slack: unsigned, wrongly signed, stale, and signed but malformed, each carrying the lead.
        (
            await client.post(
                "/slack/events", data=click, headers={"Content-Type": "application/x-www-form-urlencoded"}
            )
        ).status,
        (await client.post("/slack/events", data=click, headers=slack_signed(click, secret="wrong"))).status,
        (await client.post("/slack/events", data=click, headers=slack_signed(click, at=time.time() - 600))).status,
    ]
    malformed = urlencode({"payload": json.dumps({"type": "block_actions", "actions": [], "user": {"id": EMAIL}})})
    statuses.append((await client.post("/slack/events", data=malformed, headers=slack_signed(malformed))).status)
    # Teams: forged tokens, a tenant not served, an unusable serviceUrl.
    good = claims(connector.url)
    for token in (
        mint(rsa_key(), good),
        mint(key, good, kid="unknown"),
        mint(key, claims(connector.url, exp=1)),
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ6ZWxkYSJ9.c2ln",
    ):
        statuses.append(
            (await client.post("/api/messages", json=teams_message(connector, TENANT), headers=bearer(token))).status
        )
    statuses.append(
        (
            await client.post(
                "/api/messages", json=teams_message(connector, "another-tenant"), headers=bearer(mint(key, good))
            )
        ).status
    )
    no_service = {k: v for k, v in teams_message(connector, TENANT).items() if k != "serviceUrl"}
    statuses.append((await client.post("/api/messages", json=no_service, headers=bearer(mint(key, good)))).status)
    # Intake: a wrong token, and leads that fail validation while carrying contact details.
    statuses.append(
        (
            await client.post(
                "/api/leads",
                json=lead_payload(email=EMAIL, phone=PHONE),
                headers={"Authorization": "Bearer xoxb-not-the-intake-token"},
            )
        ).status
    )
    statuses.append(
        (
            await client.post(
                "/api/leads", json=lead_payload(email=f"not an email {PHONE}", employees="many"), headers=auth()
            )
        ).status
    )
    statuses.append(
        (
            await client.post(
                "/api/leads", data=f'{{"email": "{EMAIL}", ', headers=auth() | {"Content-Type": "application/json"}
            )
        ).status
    )
    return statuses


async def test_hostile_requests_leave_no_contact_details_tokens_or_tracebacks_at_info(
    world: World, production_log: io.StringIO
) -> None:
    statuses = await hostile_requests(world)
    assert statuses == [401, 401, 401, 400, 401, 401, 401, 401, 403, 400, 401, 422, 400], statuses
    lines = [json.loads(line) for line in production_log.getvalue().splitlines()]
    refusals = [line for line in lines if "refused" in line["message"]]
    assert len(refusals) >= 10  # the scan read the lines the requests caused
    for line in lines:
        assert not LEAKS.search(json.dumps(line)), line
        assert "exception" not in line and "Traceback" not in line["message"], line
