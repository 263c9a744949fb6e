"""Socket Mode end to end: Baton opens its websocket to a local stand-in for Slack's, acks every
envelope by its id, answers through the Web API, survives Slack recycling the connection, and
closes it on shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import Runtime
from bot.slack.component import SlackComponent
from handlers.clock import ManualClock
from handlers.views.actions import Action, ButtonData
from scoring.agreement import Agreement
from store.db import Database
from tests.conftest import make_settings
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_socket import FakeSocketMode
from tests.slack.conftest import ALICE, BOT_TOKEN, offer

APP_TOKEN = "xapp-1-A0BATON-test-not-a-token"
WAIT = 10.0
_ids = itertools.count(1)


async def eventually(check: Callable[[], object], what: str) -> None:
    """Wait (bounded) until ``check()`` is true."""

    async def poll() -> None:
        # What is checked is what the Web API fake recorded: there is no event to wait on.
        while not check():  # noqa: ASYNC110
            await asyncio.sleep(0.01)

    try:
        await asyncio.wait_for(poll(), WAIT)
    except TimeoutError:
        pytest.fail(f"timed out waiting for {what}")


@dataclass
class SocketBaton:
    runtime: Runtime
    component: SlackComponent
    fake: FakeSlack
    server: FakeSocketMode

    async def quiet(self) -> None:
        """Let whatever an ack started run to its end (listeners start just after their ack)."""
        await asyncio.sleep(0.1)
        assert await self.component.idle(5)

    async def deliver(self) -> None:
        while await self.runtime.worker.run_once():
            pass


async def _stop(component: SlackComponent) -> None:
    """Stop Socket Mode within a bound, whatever state the client is in."""
    socket = component.socket
    try:
        await asyncio.wait_for(component.stop(), WAIT)
    except TimeoutError:  # never leave the client's reconnect loop or ping monitor running
        if socket is not None:
            client = socket.client
            client.closed, client.auto_reconnect_enabled = True, False
            for task in (client.message_processor, client.current_session_monitor, client.message_receiver):
                if task is not None:
                    task.cancel()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.aiohttp_client_session.close(), 2)
        raise


@pytest.fixture
async def socket_server(fake_slack: FakeSlack) -> AsyncIterator[FakeSocketMode]:
    server = await FakeSocketMode().start()
    fake_slack.socket_mode = server.open_url
    yield server
    await server.stop()


@asynccontextmanager
async def socket_mode_baton(
    database_url: str, agreement: Agreement, clock: ManualClock, fake: FakeSlack
) -> AsyncIterator[tuple[Runtime, SlackComponent]]:
    """Baton in Socket Mode only (no signing secret), started; stopped within a bound."""
    settings = make_settings(
        database_url, slack_bot_token=BOT_TOKEN, slack_app_token=APP_TOKEN, slack_api_url=fake.api_url
    )
    runtime = Runtime(settings=settings, agreement=agreement, clock=clock)
    await runtime.prepare()
    component = SlackComponent(settings, runtime.services)
    runtime.add(component)
    try:
        await asyncio.wait_for(component.start(), WAIT)
        yield runtime, component
    finally:
        try:
            await _stop(component)
        finally:
            await runtime.db.dispose()


@pytest.fixture
async def baton(
    database_url: str,
    agreement: Agreement,
    clock: ManualClock,
    db: Database,
    fake_slack: FakeSlack,
    socket_server: FakeSocketMode,
) -> AsyncIterator[SocketBaton]:
    """Baton connected over Socket Mode and greeted."""
    async with socket_mode_baton(database_url, agreement, clock, fake_slack) as (runtime, component):
        await socket_server.connected()
        yield SocketBaton(runtime, component, fake_slack, socket_server)


def event_callback(event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    return {
        "type": "event_callback",
        "team_id": "T0BATON",
        "api_app_id": "A0BATON",
        "event_id": event_id or f"Ev{next(_ids):04d}",
        "event_time": int(time.time()),
        "event": event,
    }


def dm(text: str) -> dict[str, Any]:
    n = next(_ids)
    return {
        "type": "message",
        "channel_type": "im",
        "user": ALICE,
        "text": text,
        "channel": "D0ALICE001",
        "ts": f"1764000000.{n:06d}",
    }


def accept_click(fake: FakeSlack, data: ButtonData) -> dict[str, Any]:
    n = next(_ids)
    return {
        "type": "block_actions",
        "user": {"id": ALICE, "team_id": "T0BATON"},
        "api_app_id": "A0BATON",
        "team": {"id": "T0BATON"},
        "trigger_id": f"trigger-{n}",
        "container": {"type": "message", "channel_id": "D0ALICE001", "message_ts": "1764000000.000001"},
        "channel": {"id": "D0ALICE001"},
        "response_url": fake.response_url(f"accept-{n}"),
        "actions": [
            {
                "action_id": Action.ACCEPT.action_id,
                "block_id": "b1",
                "type": "button",
                "value": data.pack(),
                "action_ts": f"1764000000.{n}",
            }
        ],
    }


# --- the handshake ---------------------------------------------------------------------------


async def test_baton_opens_its_connection_with_the_app_token_and_is_greeted(baton: SocketBaton) -> None:
    (opened,) = baton.fake.calls_to("apps.connections.open")
    assert opened.ok and opened.headers["Authorization"] == f"Bearer {APP_TOKEN}"
    (connection,) = baton.server.connections
    assert connection.greeted.is_set() and not connection.closed.is_set()
    assert baton.component.socket is not None and await baton.component.socket.client.is_connected()


async def test_a_bot_token_cannot_open_a_socket_mode_connection(fake_slack: FakeSlack) -> None:
    """The fake, like Slack, wants the app-level token: Baton's two tokens are not interchangeable."""
    client = AsyncWebClient(base_url=fake_slack.api_url)
    with pytest.raises(SlackApiError) as raised:
        await asyncio.wait_for(client.apps_connections_open(app_token=BOT_TOKEN), WAIT)
    assert raised.value.response["error"] == "not_allowed_token_type"


async def test_a_slow_hello_does_not_hold_up_the_start_and_the_first_envelope_is_handled(
    database_url: str, agreement: Agreement, clock: ManualClock, db: Database, fake_slack: FakeSlack
) -> None:
    server = await FakeSocketMode(hello_delay=0.05).start()
    server.hold_hello()
    fake_slack.socket_mode = server.open_url
    try:
        async with socket_mode_baton(database_url, agreement, clock, fake_slack):
            (connection,) = server.connections
            assert not connection.greeted.is_set()  # Baton started; Slack has not said hello yet
            server.release_hello()
            await server.connected()
            ack = await server.request("events_api", event_callback(dm("help")))
            assert set(ack) == {"envelope_id"}
            await eventually(lambda: fake_slack.calls_to("chat.postMessage"), "Baton's answer")
    finally:
        await server.stop()


# --- envelopes -------------------------------------------------------------------------------


async def test_an_events_api_dm_is_acked_by_its_envelope_id_and_answered_through_the_web_api(
    baton: SocketBaton,
) -> None:
    # A first delivery carries retry_attempt 0 (bolt turns it into `x-slack-retry-num: 0`): not a retry.
    envelope_id = await baton.server.deliver("events_api", event_callback(dm("help")), retry_attempt=0)
    ack = await baton.server.ack(envelope_id)
    assert ack == {"envelope_id": envelope_id}
    await eventually(lambda: baton.fake.calls_to("chat.postMessage"), "Baton's answer")
    (reply,) = baton.fake.calls_to("chat.postMessage")
    assert reply.body["channel"] == "D0ALICE001" and "What you can ask Baton" in reply.body["text"]


async def test_an_app_mention_is_answered_in_its_thread(baton: SocketBaton) -> None:
    mention = {
        "type": "app_mention",
        "user": ALICE,
        "text": "<@U0BATONBOT> help",
        "channel": "C0SOMEWHERE",
        "ts": "1764000000.000100",
    }
    await baton.server.request("events_api", event_callback(mention))
    await eventually(lambda: baton.fake.calls_to("chat.postMessage"), "Baton's answer")
    (reply,) = baton.fake.calls_to("chat.postMessage")
    assert reply.body["channel"] == "C0SOMEWHERE" and reply.body["thread_ts"] == "1764000000.000100"


async def test_an_accept_click_on_a_posted_card_is_acked_and_accepts_the_lead(baton: SocketBaton) -> None:
    data = await offer(baton.runtime)
    await baton.deliver()
    assert baton.fake.calls_to("chat.postMessage"), "the offer card was not posted"
    envelope_id = await baton.server.deliver("interactive", accept_click(baton.fake, data))
    assert await baton.server.ack(envelope_id) == {"envelope_id": envelope_id}
    await eventually(lambda: any("You accepted" in str(r.body.get("text")) for r in baton.fake.responses), "the answer")
    await baton.quiet()
    await baton.deliver()
    (update,) = baton.fake.calls_to("chat.update")
    assert "*Accepted* by <@U0ALICE001>" in str(update.body["blocks"])


async def test_a_redelivered_event_is_acked_again_but_answered_once(baton: SocketBaton) -> None:
    payload = event_callback(dm("help"), event_id="Ev0DUP")
    await baton.server.request("events_api", payload)
    await eventually(lambda: baton.fake.calls_to("chat.postMessage"), "Baton's answer")
    again = await baton.server.request("events_api", payload, retry_attempt=1, retry_reason="timeout")
    assert set(again) == {"envelope_id"}
    await baton.quiet()
    assert len(baton.fake.calls_to("chat.postMessage")) == 1


async def test_the_same_envelope_delivered_twice_is_acked_twice_and_answered_once(baton: SocketBaton) -> None:
    """Slack sometimes sends an envelope again, same id, retry_attempt still 0."""
    payload = event_callback(dm("help"), event_id="Ev0TWICE")
    envelope_id = await baton.server.deliver("events_api", payload, envelope_id="env-twice")
    await baton.server.deliver("events_api", payload, envelope_id="env-twice")
    await eventually(lambda: len(baton.server.acks_of(envelope_id)) == 2, "both acks")
    await baton.quiet()
    assert len(baton.fake.calls_to("chat.postMessage")) == 1


@pytest.mark.parametrize(
    ("kind", "payload", "problem"),
    [
        ("events_api", {"type": "event_callback", "event": {"user": ALICE, "text": "help"}}, "`event.type`"),
        ("interactive", {"type": "block_actions", "user": {"id": ALICE}, "actions": []}, "`actions`"),
        ("events_api", "help", "no `type` or `command`"),
        ("slash_commands", {"command": "/baton", "text": "help", "user_id": ALICE}, "`response_url`"),
    ],
    ids=["event-without-type", "click-without-actions", "payload-a-string", "command-without-response-url"],
)
async def test_a_malformed_envelope_is_acked_with_nothing_run(
    baton: SocketBaton, caplog: pytest.LogCaptureFixture, kind: str, payload: Any, problem: str
) -> None:
    with caplog.at_level(logging.INFO, logger="bot.slack.socket_mode"):
        ack = await baton.server.request(kind, payload)
        await baton.quiet()
    assert set(ack) == {"envelope_id"}
    assert [c.method for c in baton.fake.calls] == ["apps.connections.open"] and not baton.fake.responses
    assert "ignored a malformed" in caplog.text and problem in caplog.text
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize("payload", [["help"], 42, None, True], ids=["list", "number", "null", "bool"])
async def test_an_envelope_whose_payload_is_not_an_object_is_acked_with_one_log_line(
    baton: SocketBaton, caplog: pytest.LogCaptureFixture, payload: Any
) -> None:
    with caplog.at_level(logging.INFO):
        ack = await baton.server.request("interactive", payload)
        await baton.quiet()
    assert set(ack) == {"envelope_id"}
    assert [c.method for c in baton.fake.calls] == ["apps.connections.open"] and not baton.fake.responses
    assert "ignored a malformed interactive envelope" in caplog.text
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.exc_info]


@pytest.mark.parametrize(
    ("envelope", "problem"),
    [
        ({"envelope_id": "env-bare", "type": "events_api"}, "events_api envelope: it has no payload"),
        ({"envelope_id": "env-bare", "payload": {"type": "block_actions"}}, "untyped envelope: it has no type"),
    ],
    ids=["no-payload", "no-type"],
)
async def test_an_envelope_missing_a_field_is_acked_with_one_log_line(
    baton: SocketBaton, caplog: pytest.LogCaptureFixture, envelope: dict[str, Any], problem: str
) -> None:
    with caplog.at_level(logging.INFO):
        await baton.server.send_raw(envelope)
        ack = await baton.server.ack("env-bare")
        await baton.quiet()
    assert ack == {"envelope_id": "env-bare"}
    assert f"ignored a malformed {problem}" in caplog.text
    assert not [r for r in caplog.records if r.exc_info]


async def test_a_frame_that_is_not_json_leaves_the_connection_working(baton: SocketBaton) -> None:
    await baton.server.send_raw("{this is not json")
    await baton.server.send_raw("not even an object")
    await baton.server.request("events_api", event_callback(dm("help")))
    await eventually(lambda: baton.fake.calls_to("chat.postMessage"), "Baton's answer")
    assert len(baton.server.connections) == 1


# --- Slack recycling the connection ----------------------------------------------------------


@pytest.mark.parametrize("reason", ["refresh_requested", "warning"])
async def test_a_disconnect_makes_baton_reconnect_and_the_next_envelope_is_handled(
    baton: SocketBaton, reason: str
) -> None:
    first = baton.server.connections[0]
    await baton.server.disconnect(reason)
    second = await baton.server.connected(2)
    await baton.server.wait_closed(first)  # Baton closes the old socket itself
    assert len(baton.fake.calls_to("apps.connections.open", ok=True)) == 2
    envelope_id = await baton.server.deliver("events_api", event_callback(dm("help")), to=second)
    await baton.server.ack(envelope_id)
    await eventually(lambda: baton.fake.calls_to("chat.postMessage"), "Baton's answer")
    assert [c for c in baton.server.connections if not c.closed.is_set()] == [second]


async def test_a_socket_slack_closes_without_warning_is_replaced(baton: SocketBaton) -> None:
    await baton.server.drop()
    second = await baton.server.connected(2)
    envelope_id = await baton.server.deliver("events_api", event_callback(dm("help")), to=second)
    await baton.server.ack(envelope_id)
    await eventually(lambda: baton.fake.calls_to("chat.postMessage"), "Baton's answer")
    assert not baton.server.refused  # every connection used a fresh URL


async def test_when_slack_switches_socket_mode_off_and_refuses_a_new_url_baton_still_shuts_down(
    baton: SocketBaton,
) -> None:
    """link_disabled: no new URL is handed out (access_denied) and Slack closes the socket."""
    baton.fake.socket_mode = None
    await baton.server.disconnect("link_disabled")
    await eventually(lambda: baton.fake.calls_to("apps.connections.open", ok=False), "a refused reconnect")
    await baton.server.drop()
    assert (baton.fake.calls_to("apps.connections.open", ok=False)[0].error) == "access_denied"
    await asyncio.wait_for(baton.component.stop(), WAIT)
    assert len(baton.server.connections) == 1


# --- shutdown --------------------------------------------------------------------------------


async def test_a_clean_shutdown_closes_the_socket_and_does_not_reconnect(baton: SocketBaton) -> None:
    (connection,) = baton.server.connections
    await asyncio.wait_for(baton.component.stop(), WAIT)
    await baton.server.wait_closed(connection)
    assert connection.close_code == 1000
    await asyncio.sleep(0.1)
    assert len(baton.server.connections) == 1 and len(baton.fake.calls_to("apps.connections.open")) == 1
    assert baton.component.socket is None
