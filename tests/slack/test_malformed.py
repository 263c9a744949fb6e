"""Hostile input on /slack/events: the signature is checked before the body is parsed, and a
signed body that is not a well-formed Slack payload gets a 4xx naming the problem; never a 500."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.slack.socket_mode import CheckedSocketModeHandler
from handlers.views.actions import Action
from store.models import Lead
from tests.slack.conftest import ALICE, SIGNING_SECRET, SlackDriver, offer, signed_headers


def form(payload: Any) -> str:
    return urlencode({"payload": json.dumps(payload)})


async def unchanged(slack: SlackDriver, lead_id: int) -> bool:
    await slack.component.idle(5)
    async with slack.runtime.db.transaction() as session:
        lead = await session.get(Lead, lead_id)
    return lead is not None and lead.stage == "mql" and lead.owner is None and not slack.fake.calls


async def test_an_unsigned_body_that_is_not_form_or_json_gets_401_not_500(slack: SlackDriver) -> None:
    response = await slack.client.post(
        "/slack/events", data=b"\xff\xfe{{{payload=%%%", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status == 401 and "signed" in (await response.json())["error"]


async def test_an_unsigned_json_array_gets_401_not_500(slack: SlackDriver) -> None:
    response = await slack.client.post("/slack/events", data=b"[1, 2", headers={"Content-Type": "application/json"})
    assert response.status == 401


@pytest.mark.parametrize("timestamp", ["soon", "-5", "1e9", "１７６４００００００", "9" * 40, " "])
async def test_a_timestamp_that_is_not_a_unix_time_gets_401(slack: SlackDriver, timestamp: str) -> None:
    body = form({"type": "block_actions"})
    headers = signed_headers(body) | {"X-Slack-Request-Timestamp": timestamp}
    response = await slack.post(body, headers)
    assert response.status == 401 and "error" in response.json()


async def test_a_signature_with_non_ascii_characters_gets_401(slack: SlackDriver) -> None:
    body = form({"type": "block_actions"})
    headers = signed_headers(body) | {"X-Slack-Signature": "v0=é" + "0" * 63}
    response = await slack.post(body, headers)
    assert response.status == 401 and "does not match" in response.json()["error"]


async def test_a_body_signed_over_its_raw_bytes_that_is_not_utf8_gets_400(slack: SlackDriver) -> None:
    raw = b"payload=\xff\xfe"
    timestamp = str(int(time.time()))
    signature = (
        "v0=" + hmac.new(SIGNING_SECRET.encode(), b"v0:" + timestamp.encode() + b":" + raw, hashlib.sha256).hexdigest()
    )
    response = await slack.client.post(
        "/slack/events",
        data=raw,
        headers={
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert response.status == 400 and "UTF-8" in (await response.json())["error"]


@pytest.mark.parametrize("payload", ["[1, 2, 3]", '"a string"', "42", "null", "{not json"])
async def test_a_signed_payload_that_is_not_an_object_gets_400(slack: SlackDriver, payload: str) -> None:
    body = urlencode({"payload": payload})
    response = await slack.post(body, signed_headers(body))
    assert response.status == 400 and "payload" in response.json()["error"]


async def test_a_signed_json_body_that_is_not_an_object_gets_400(slack: SlackDriver) -> None:
    body = "[]"
    response = await slack.post(body, signed_headers(body, content_type="application/json"))
    assert response.status == 400 and "object" in response.json()["error"]


async def test_a_signed_body_of_another_content_type_gets_415(slack: SlackDriver) -> None:
    body = "<xml/>"
    response = await slack.post(body, signed_headers(body, content_type="text/xml"))
    assert response.status == 415


async def test_a_signed_click_with_no_actions_gets_400_and_changes_nothing(slack: SlackDriver) -> None:
    data = await offer(slack.runtime)
    payload = slack.click_payload(ALICE, Action.ACCEPT, data.pack()) | {"actions": []}
    response = await slack.interact(payload)
    assert response.status == 400 and "actions" in response.json()["error"]
    assert await unchanged(slack, data.lead_id)


@pytest.mark.parametrize(
    "change",
    [
        {"actions": "accept"},
        {"actions": [42]},
        {"actions": [{"value": "v1:1:1"}]},
        {"user": ["U0ALICE001"]},
        {"user": {"id": 7}},
        {"team": 3},
        {"channel": {"id": 5}},
        {"container": "x"},
        {"response_url": 12},
        {"trigger_id": {"a": 1}},
        {"authorizations": {"team_id": "T"}},
        {"type": 5},
    ],
)
async def test_a_signed_click_with_a_field_of_the_wrong_shape_gets_400_and_changes_nothing(
    slack: SlackDriver, change: dict[str, Any]
) -> None:
    data = await offer(slack.runtime)
    response = await slack.interact(slack.click_payload(ALICE, Action.ACCEPT, data.pack()) | change)
    assert response.status == 400, response
    assert await unchanged(slack, data.lead_id)


async def test_a_signed_click_whose_button_value_is_not_a_string_gets_400(slack: SlackDriver) -> None:
    data = await offer(slack.runtime)
    payload = slack.click_payload(ALICE, Action.ACCEPT, data.pack())
    payload["actions"][0]["value"] = {"lead": data.lead_id}
    response = await slack.interact(payload)
    assert response.status == 400 and "actions[0].value" in response.json()["error"]
    assert await unchanged(slack, data.lead_id)


async def test_a_signed_object_with_no_type_or_command_gets_400(slack: SlackDriver) -> None:
    response = await slack.interact({"hello": "world"})
    assert response.status == 400 and "not a Slack payload" in response.json()["error"]


async def test_a_signed_event_without_an_event_type_gets_400(slack: SlackDriver) -> None:
    body = json.dumps({"type": "event_callback", "event_id": "Ev1", "event": {"text": "hi"}})
    response = await slack.post(body, signed_headers(body, content_type="application/json"))
    assert response.status == 400 and "event.type" in response.json()["error"]


async def test_a_signed_view_submission_without_a_view_gets_400(slack: SlackDriver) -> None:
    response = await slack.interact({"type": "view_submission", "user": {"id": ALICE}})
    assert response.status == 400 and "view" in response.json()["error"]


async def test_a_slash_command_mentioning_payload_is_still_a_command(slack: SlackDriver) -> None:
    # bolt's own form parser reads any body containing "payload" as an interaction and drops it.
    response = await slack.command(ALICE, "help payload")
    assert response.status == 200


async def test_a_listener_that_fails_answers_200_and_logs_one_line_without_a_traceback(
    slack: SlackDriver, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import bot.slack.actions as actions

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the store is on fire")

    monkeypatch.setattr(actions, "who_and_what", broken)
    data = await offer(slack.runtime)
    caplog.set_level(logging.INFO)
    response = await slack.click(ALICE, Action.ACCEPT, data.pack())
    assert response.status == 200
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in failures] == ["Slack: a listener failed: RuntimeError: the store is on fire"]
    assert all(r.exc_info is None for r in caplog.records if r.levelno > logging.DEBUG)


async def test_a_failing_dispatch_answers_200_and_logs_one_line(
    slack: SlackDriver, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(request: Any) -> Any:
        raise KeyError("bolt tripped")

    monkeypatch.setattr(slack.component.bolt, "async_dispatch", broken)
    caplog.set_level(logging.INFO)
    response = await slack.interact(slack.click_payload(ALICE, Action.ACCEPT, "v1:1:1"))
    assert response.status == 200
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == [
        "Slack: dispatch failed: KeyError: 'bolt tripped'"
    ]
    assert all(r.exc_info is None for r in caplog.records if r.levelno > logging.DEBUG)


async def test_an_unsigned_click_logs_neither_its_body_nor_a_traceback(
    slack: SlackDriver, caplog: pytest.LogCaptureFixture
) -> None:
    data = await offer(slack.runtime, email="zelda.q@acme-widgets.example")
    caplog.set_level(logging.DEBUG)
    body = form(slack.click_payload(ALICE, Action.ACCEPT, data.pack()))
    response = await slack.post(body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status == 401
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "payload" not in text and "acme-widgets" not in text and data.pack() not in text
    assert all(r.exc_info is None for r in caplog.records)


class RecordingSocketClient:
    def __init__(self) -> None:
        self.sent: list[SocketModeResponse] = []
        self.logger = logging.getLogger("tests.socket")

    async def send_socket_mode_response(self, response: SocketModeResponse) -> None:
        self.sent.append(response)


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "block_actions", "actions": []},
        {"hello": 1},
        {"type": "block_actions", "user": {"id": ALICE}, "actions": [{"x": 1}]},
    ],
)
async def test_socket_mode_acknowledges_a_malformed_envelope_and_runs_nothing(
    slack: SlackDriver, payload: dict[str, Any]
) -> None:
    data = await offer(slack.runtime)
    handler = CheckedSocketModeHandler(slack.component.bolt, "xapp-1-test-not-a-token")
    client = RecordingSocketClient()
    await handler.handle(client, SocketModeRequest(type="interactive", envelope_id="env-1", payload=payload))
    assert [r.envelope_id for r in client.sent] == ["env-1"] and client.sent[0].payload is None
    assert await unchanged(slack, data.lead_id)
    await handler.client.close()


async def test_socket_mode_still_routes_a_well_formed_click(slack: SlackDriver) -> None:
    data = await offer(slack.runtime)
    handler = CheckedSocketModeHandler(slack.component.bolt, "xapp-1-test-not-a-token")
    client = RecordingSocketClient()
    payload = slack.click_payload(ALICE, Action.ACCEPT, data.pack())
    await handler.handle(client, SocketModeRequest(type="interactive", envelope_id="env-2", payload=payload))
    await slack.component.idle(5)
    assert [r.envelope_id for r in client.sent] == ["env-2"]
    assert "You accepted" in slack.last_answer()
    await handler.client.close()


async def test_slacks_url_verification_challenge_is_still_answered(slack: SlackDriver) -> None:
    body = json.dumps({"type": "url_verification", "token": "t", "challenge": "c0ffee"})
    response = await slack.post(body, signed_headers(body, content_type="application/json"))
    assert response.status == 200 and "c0ffee" in response.text


async def test_slacks_ssl_check_is_still_answered(slack: SlackDriver) -> None:
    body = urlencode({"ssl_check": "1", "token": "t"})
    response = await slack.post(body, signed_headers(body))
    assert response.status == 200
