"""The welcome on Slack: Baton added to a channel, and a person's first visit to the App Home."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.runtime import Runtime
from bot.slack.component import SlackComponent
from scoring.agreement import Agreement
from store.db import Database
from tests.conftest import ManualClock, make_settings
from tests.fakes.slack_api import BOT_USER, FakeSlack
from tests.slack.conftest import ALICE, BOT_TOKEN, SIGNING_SECRET, SlackDriver


async def _driver(
    database_url: str, agreement: Agreement, clock: ManualClock, fake: FakeSlack, welcome: bool
) -> AsyncIterator[SlackDriver]:
    settings = make_settings(
        database_url,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake.api_url,
        welcome=welcome,
    )
    rt = Runtime(settings=settings, agreement=agreement, clock=clock)
    await rt.prepare()
    component = SlackComponent(settings, rt.services)
    rt.add(component)
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(rt.web_app(), host="127.0.0.1"))
    await client.start_server()
    yield SlackDriver(client, rt, component, fake)
    await component.idle(5)
    await client.close()
    await rt.db.dispose()


@pytest.fixture
async def welcoming(
    database_url: str, agreement: Agreement, clock: ManualClock, db: Database, fake_slack: FakeSlack
) -> AsyncIterator[SlackDriver]:
    async for driver in _driver(database_url, agreement, clock, fake_slack, welcome=True):
        yield driver


@pytest.fixture
async def quiet(
    database_url: str, agreement: Agreement, clock: ManualClock, db: Database, fake_slack: FakeSlack
) -> AsyncIterator[SlackDriver]:
    async for driver in _driver(database_url, agreement, clock, fake_slack, welcome=False):
        yield driver


def _joined(user: str, channel: str) -> dict[str, object]:
    return {"type": "member_joined_channel", "user": user, "channel": channel, "channel_type": "C", "team": "T0BATON"}


def _welcomes(slack: SlackDriver) -> list[dict[str, object]]:
    return [c.body for c in slack.fake.calls_to("chat.postMessage") if "I'm Baton" in str(c.body)]


async def test_baton_added_to_a_team_channel_says_what_it_will_post_there(welcoming: SlackDriver) -> None:
    await welcoming.event(_joined(BOT_USER, "C0EMEASALES"))
    (posted,) = _welcomes(welcoming)
    assert posted["channel"] == "C0EMEASALES" and "new leads for team emea" in str(posted)


async def test_the_same_join_heard_again_is_not_welcomed_twice(welcoming: SlackDriver) -> None:
    await welcoming.event(_joined(BOT_USER, "C0SALESMGRS"), event_id="Ev1")
    await welcoming.event(_joined(BOT_USER, "C0SALESMGRS"), event_id="Ev2")
    assert len(_welcomes(welcoming)) == 1


async def test_someone_else_joining_is_not_an_install(welcoming: SlackDriver) -> None:
    await welcoming.event(_joined(ALICE, "C0SALESMGRS"))
    assert _welcomes(welcoming) == []


async def test_removed_and_invited_again_welcomes_again(welcoming: SlackDriver) -> None:
    await welcoming.event(_joined(BOT_USER, "C0MKTGFEEDBK"), event_id="Ev1")
    await welcoming.event(
        {"type": "member_left_channel", "user": BOT_USER, "channel": "C0MKTGFEEDBK", "channel_type": "C"},
        event_id="Ev2",
    )
    await welcoming.event(_joined(BOT_USER, "C0MKTGFEEDBK"), event_id="Ev3")
    assert len(_welcomes(welcoming)) == 2


async def test_the_first_app_home_visit_gets_the_personal_welcome_in_the_dm_once(welcoming: SlackDriver) -> None:
    for n, tab in enumerate(("messages", "home", "home")):
        await welcoming.event(
            {"type": "app_home_opened", "user": ALICE, "channel": "D0ALICE001", "tab": tab}, event_id=f"Ev{n}"
        )
    (posted,) = _welcomes(welcoming)
    assert posted["channel"] == ALICE and "As a rep, you get new leads here" in str(posted)
    assert len(welcoming.fake.calls_to("views.publish")) == 2  # the Home tab itself, each time it is opened


async def test_baton_welcome_off_posts_no_welcome(quiet: SlackDriver) -> None:
    await quiet.event(_joined(BOT_USER, "C0EMEASALES"), event_id="Ev1")
    await quiet.event(
        {"type": "app_home_opened", "user": ALICE, "channel": "D0ALICE001", "tab": "home"}, event_id="Ev2"
    )
    assert _welcomes(quiet) == []


async def test_a_welcome_slack_refused_is_sent_on_the_next_visit(welcoming: SlackDriver) -> None:
    welcoming.fake.fail("chat.postMessage", status=500, html=True)
    home = {"type": "app_home_opened", "user": ALICE, "channel": "D0ALICE001", "tab": "home"}
    await welcoming.event(home, event_id="Ev1")
    assert not welcoming.fake.calls_to("chat.postMessage", ok=True)
    await welcoming.event(home, event_id="Ev2")
    (landed,) = welcoming.fake.calls_to("chat.postMessage", ok=True)
    assert "I'm Baton" in str(landed.body)
