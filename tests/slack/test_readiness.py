"""Slack's health check during an outage: every Slack answer is a 500, as an outage page gives it.

``/readyz`` stays 200 with ``"slack": "degraded: HTTP 500"``; no AttributeError from a body
that is not JSON, whatever its content type.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.runtime import Runtime
from bot.slack.component import SlackComponent
from handlers.clock import ManualClock
from scoring.agreement import Agreement
from tests.conftest import make_settings
from tests.slack.conftest import BOT_TOKEN, SIGNING_SECRET


@dataclass
class Outage:
    """Answers every Web API call with ``status`` and ``body`` (``content_type``)."""

    status: int = 500
    body: str = "<html><body><h1>500 Internal Server Error</h1></body></html>"
    content_type: str = "text/html"
    calls: int = 0
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.calls += 1
        return web.Response(status=self.status, body=self.body.encode(), content_type=self.content_type)


@pytest.fixture
async def outage() -> AsyncIterator[Outage]:
    found = Outage()
    app = web.Application()
    app.router.add_route("*", "/api/{method}", found.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    found.url = f"http://{host}:{port}/api/"
    yield found
    await runner.cleanup()


@pytest.fixture
async def client(
    database_url: str, agreement: Agreement, clock: ManualClock, outage: Outage, db: Any
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    settings = make_settings(
        database_url, slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET, slack_api_url=outage.url
    )
    runtime = Runtime(settings=settings, agreement=agreement, clock=clock)
    await runtime.prepare()
    runtime.add(SlackComponent(settings, runtime.services))
    test_client: TestClient[web.Request, web.Application] = TestClient(TestServer(runtime.web_app(), host="127.0.0.1"))
    await test_client.start_server()
    yield test_client
    await test_client.close()
    await runtime.db.dispose()


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/html", "<html><body>500 Internal Server Error</body></html>"),
        ("text/plain", "Internal Server Error"),
        ("application/json", "<html>not json after all</html>"),
        ("application/json", '["a list, not an object"]'),
    ],
)
async def test_slack_answering_500_is_degraded_and_the_replica_stays_ready(
    client: TestClient[web.Request, web.Application], outage: Outage, content_type: str, body: str
) -> None:
    outage.content_type, outage.body = content_type, body
    response = await client.get("/readyz")
    assert response.status == 200
    answer = await response.json()
    assert answer["status"] == "degraded"
    assert answer["checks"]["slack"] == "degraded: HTTP 500"


async def test_slack_refusing_the_token_is_degraded_with_its_error_code(
    client: TestClient[web.Request, web.Application], outage: Outage
) -> None:
    outage.status, outage.content_type = 200, "application/json"
    outage.body = '{"ok": false, "error": "invalid_auth"}'
    response = await client.get("/readyz")
    assert response.status == 200
    assert (await response.json())["checks"]["slack"] == "degraded: invalid_auth"


async def test_probes_do_not_call_slack_every_time(
    client: TestClient[web.Request, web.Application], outage: Outage
) -> None:
    for _ in range(10):
        await client.get("/readyz")
    assert outage.calls == 1
