"""The Slack component in the runtime: added when configured, mounted only with a signing secret."""

from __future__ import annotations

import logging

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.components import add_components
from bot.runtime import Runtime
from bot.slack.component import SlackComponent
from handlers.clock import ManualClock
from scoring.agreement import Agreement
from tests.conftest import make_settings
from tests.fakes.slack_api import FakeSlack
from tests.slack.conftest import BOT_TOKEN, SIGNING_SECRET, SlackDriver


def test_slack_is_added_when_its_token_and_secret_are_set(database_url: str, agreement: Agreement) -> None:
    settings = make_settings(database_url, slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET)
    runtime = Runtime(settings=settings, agreement=agreement)
    add_components(runtime)
    assert any(isinstance(c, SlackComponent) for c in runtime.components)
    assert "slack" in runtime.worker.senders


def test_without_slack_settings_the_log_says_so(
    database_url: str, agreement: Agreement, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = Runtime(settings=make_settings(database_url), agreement=agreement)
    with caplog.at_level(logging.WARNING):
        add_components(runtime)
    assert not any(isinstance(c, SlackComponent) for c in runtime.components)
    assert "Slack is not configured" in caplog.text


async def test_socket_mode_only_serves_no_http_endpoint(
    database_url: str, agreement: Agreement, clock: ManualClock
) -> None:
    settings = make_settings(database_url, slack_bot_token=BOT_TOKEN, slack_app_token="xapp-not-secret")
    runtime = Runtime(settings=settings, agreement=agreement, clock=clock)
    runtime.add(SlackComponent(settings, runtime.services))
    async with TestClient(TestServer(runtime.web_app(), host="127.0.0.1")) as client:
        response = await client.post("/slack/events", data=b"payload=%7B%7D")
        assert response.status in (404, 405)
    await runtime.db.dispose()


async def test_readiness_checks_the_slack_token(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    assert await slack.component.ready() == "ok"
    fake_slack.fail("auth.test", error="invalid_auth")
    assert await slack.component.ready() == "degraded: invalid_auth"
