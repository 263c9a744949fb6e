"""Slack fixtures: Baton's runtime with the Slack component, served on 127.0.0.1, talking to a
local fake Slack Web API; and a driver that plays Slack by sending signed requests."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import select

from bot.runtime import Runtime
from bot.slack.component import SlackComponent
from bot.slack.manifest import EVENTS_PATH
from handlers.clock import ManualClock
from handlers.intake.leads import LeadIn, ingest
from handlers.views.actions import Action, ButtonData
from scoring.agreement import Agreement
from store.db import Database
from store.models import Handoff
from tests.conftest import make_settings
from tests.factories import lead_payload
from tests.fakes.slack_api import FakeSlack

SIGNING_SECRET = "test-signing-secret-not-secret"
BOT_TOKEN = "xoxb-test-token-not-secret"
ALICE, BOB, CLARA, DAVID = "U0ALICE001", "U0BOB00001", "U0CLARA001", "U0DAVID001"
MARKETING_CHANNEL, EMEA_CHANNEL = "C0MKTGFEEDBK", "C0EMEASALES"


def signed_headers(
    body: str,
    *,
    secret: str = SIGNING_SECRET,
    at: float | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> dict[str, str]:
    timestamp = str(int(at if at is not None else time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    assert signature is not None
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature, "Content-Type": content_type}


@dataclass(frozen=True)
class Reply:
    """What Baton answered Slack over HTTP."""

    status: int
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


class SlackDriver:
    """Plays Slack against the running app: signed clicks, form submissions, commands, events."""

    def __init__(
        self,
        client: TestClient[web.Request, web.Application],
        runtime: Runtime,
        component: SlackComponent,
        fake: FakeSlack,
    ) -> None:
        self.client = client
        self.runtime = runtime
        self.component = component
        self.fake = fake
        self._n = itertools.count(1)

    async def post(self, body: str, headers: dict[str, str]) -> Reply:
        response = await self.client.post(EVENTS_PATH, data=body.encode(), headers=headers)
        return Reply(response.status, await response.text())

    async def interact(self, payload: dict[str, Any]) -> Reply:
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post(body, signed_headers(body))

    def click_payload(
        self,
        user: str,
        action: Action | str,
        value: str,
        *,
        channel: str = "D0ALICE001",
        block_id: str = "b1",
        selected: str | None = None,
    ) -> dict[str, Any]:
        n = next(self._n)
        action_id = action.action_id if isinstance(action, Action) else action
        element: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id,
            "type": "button",
            "value": value,
            "action_ts": f"1764000000.{n}",
        }
        if selected is not None:
            element = {**element, "type": "static_select", "selected_option": {"value": selected}}
        return {
            "type": "block_actions",
            "user": {"id": user, "team_id": "T0BATON"},
            "api_app_id": "A0BATON",
            "team": {"id": "T0BATON"},
            "trigger_id": f"trigger-{n}",
            "container": {"type": "message", "channel_id": channel, "message_ts": "1764000000.000001"},
            "channel": {"id": channel},
            "response_url": self.fake.response_url(f"{user}-{n}"),
            "actions": [element],
        }

    async def click(self, user: str, action: Action | str, value: str, **kwargs: Any) -> Reply:
        response = await self.interact(self.click_payload(user, action, value, **kwargs))
        await self.component.idle(5)
        return response

    async def submit(self, user: str, view: dict[str, Any], reason: str | None, note: str | None) -> Reply:
        state = {
            "reason": {
                "reason_select": {"type": "static_select", "selected_option": {"value": reason} if reason else None}
            },
            "note": {"note_input": {"type": "plain_text_input", "value": note}},
        }
        payload = {
            "type": "view_submission",
            "user": {"id": user, "team_id": "T0BATON"},
            "team": {"id": "T0BATON"},
            "api_app_id": "A0BATON",
            "view": {**view, "state": {"values": state}},
        }
        response = await self.interact(payload)
        await self.component.idle(5)
        return response

    async def command(self, user: str, text: str) -> Reply:
        n = next(self._n)
        body = urlencode(
            {
                "command": "/baton",
                "text": text,
                "user_id": user,
                "team_id": "T0BATON",
                "channel_id": "C0SOMEWHERE",
                "api_app_id": "A0BATON",
                "trigger_id": f"t-{n}",
                "response_url": self.fake.response_url(f"cmd-{n}"),
            }
        )
        response = await self.post(body, signed_headers(body))
        await self.component.idle(5)
        return response

    async def event(self, event: dict[str, Any], *, event_id: str = "Ev0001", retry: int | None = None) -> Reply:
        body = json.dumps(
            {
                "type": "event_callback",
                "team_id": "T0BATON",
                "api_app_id": "A0BATON",
                "event_id": event_id,
                "event_time": int(time.time()),
                "event": event,
            }
        )
        headers = signed_headers(body, content_type="application/json")
        if retry is not None:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        response = await self.post(body, headers)
        await asyncio.sleep(0.05)  # events are acked before their listener starts
        await self.component.idle(5)
        return response

    async def deliver(self) -> int:
        """Sweep the outbox until nothing more is due now; returns rows settled."""
        total = 0
        while settled := await self.runtime.worker.run_once():
            total += settled
        return total

    def last_answer(self) -> str:
        """The text of the latest ephemeral/response_url answer."""
        assert self.fake.responses, "nobody was answered"
        return str(self.fake.responses[-1].body.get("text"))


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def slack_runtime(
    database_url: str, agreement: Agreement, clock: ManualClock, db: Database, fake_slack: FakeSlack
) -> AsyncIterator[Runtime]:
    settings = make_settings(
        database_url, slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET, slack_api_url=fake_slack.api_url
    )
    rt = Runtime(settings=settings, agreement=agreement, clock=clock)
    await rt.prepare()
    rt.add(SlackComponent(settings, rt.services))
    yield rt
    await rt.db.dispose()


@pytest.fixture
async def slack(slack_runtime: Runtime, fake_slack: FakeSlack) -> AsyncIterator[SlackDriver]:
    component = next(c for c in slack_runtime.components if isinstance(c, SlackComponent))
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(slack_runtime.web_app(), host="127.0.0.1"))
    await client.start_server()
    yield SlackDriver(client, slack_runtime, component, fake_slack)
    await component.idle(5)
    await client.close()


async def offer(runtime: Runtime, **fields: Any) -> ButtonData:
    """Ingest a qualifying lead; the button data of its open offer."""
    (outcome,) = await ingest(runtime.services, [LeadIn.model_validate(lead_payload(**fields))])
    assert outcome.offered, outcome
    async with runtime.db.transaction() as session:
        handoff = (await session.scalars(select(Handoff).where(Handoff.lead_id == outcome.lead_id))).one()
    return ButtonData(lead_id=outcome.lead_id, handoff_id=handoff.id)
