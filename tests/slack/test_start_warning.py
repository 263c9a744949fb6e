"""Starting the Slack component logs no warning from bolt about the token (it is the client's)."""

from __future__ import annotations

import logging

import pytest

from bot.runtime import Runtime
from bot.slack.component import SlackComponent
from handlers.clock import ManualClock
from scoring.agreement import Agreement
from store.db import Database
from tests.conftest import make_settings
from tests.fakes.slack_api import FakeSlack
from tests.slack.conftest import BOT_TOKEN, SIGNING_SECRET


async def test_no_token_will_be_unused_warning_on_start(
    database_url: str,
    agreement: Agreement,
    clock: ManualClock,
    db: Database,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)  # as a deployment sets it: bolt reads it too
    settings = make_settings(
        database_url, slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET, slack_api_url=fake_slack.api_url
    )
    rt = Runtime(settings=settings, agreement=agreement, clock=clock)
    with caplog.at_level(logging.DEBUG):
        rt.add(SlackComponent(settings, rt.services))
    await rt.db.dispose()
    assert not [r for r in caplog.records if "will be unused" in r.getMessage()]
