"""Property-based hostile input on /slack/events: whatever the body, no 5xx, no traceback in the
log, and nothing written. Unsigned bodies always get 401; signed garbage gets a 4xx or, for a
well-formed payload Baton does not act on, a 2xx."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from store.models import Base
from tests.slack.conftest import ALICE, SIGNING_SECRET, SlackDriver, signed_headers

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
ids = st.one_of(st.just(ALICE), st.text(max_size=12), st.integers(), st.none(), json_values)
slack_types = st.sampled_from(
    [
        "block_actions",
        "view_submission",
        "view_closed",
        "event_callback",
        "shortcut",
        "message_action",
        "url_verification",
        "block_suggestion",
        "interactive_message",
        "app_rate_limited",
    ]
) | st.text(max_size=10)
actions = (
    st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "action_id": st.sampled_from(
                    ["baton_accept", "baton_reject", "baton_claim", "baton_log_call", "baton_reassign"]
                )
                | json_values,
                "value": st.sampled_from(["v1:1:1", "v1:999:999", ""]) | json_values,
                "block_id": json_values,
                "type": json_values,
                "selected_option": json_values,
            },
        ),
        max_size=3,
    )
    | json_values
)
payloads = st.fixed_dictionaries(
    {},
    optional={
        "type": slack_types | json_values,
        "user": st.fixed_dictionaries({"id": ids}) | ids,
        "team": ids,
        "channel": st.fixed_dictionaries({"id": ids}) | ids,
        "actions": actions,
        "view": json_values,
        "event": st.fixed_dictionaries(
            {},
            optional={
                "type": st.sampled_from(["app_mention", "message", "app_home_opened"]) | json_values,
                "user": ids,
                "text": json_values,
                "channel": ids,
            },
        ),
        "command": st.sampled_from(["/baton"]) | json_values,
        "text": json_values,
        "user_id": ids,
        "trigger_id": json_values,
        "response_url": json_values,
        "authorizations": json_values,
        "container": json_values,
        "challenge": json_values,
    },
)


async def row_counts(slack: SlackDriver) -> dict[str, int]:
    async with slack.runtime.db.transaction() as session:
        return {
            t.name: int(await session.scalar(select(func.count()).select_from(t)) or 0)
            for t in Base.metadata.sorted_tables
        }


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        assert record.exc_info is None or record.levelno <= logging.DEBUG, record.getMessage()
        assert "Traceback" not in record.getMessage()


async def check(slack: SlackDriver, body: bytes, headers: dict[str, str], before: dict[str, int]) -> int:
    response = await slack.client.post("/slack/events", data=body, headers=headers)
    await slack.component.idle(5)
    assert response.status < 500, await response.text()
    assert await row_counts(slack) == before
    return response.status


@FUZZ
@given(
    body=st.binary(max_size=300),
    timestamp=st.text(max_size=14) | st.integers().map(str),
    signature=st.text(max_size=70),
    content_type=st.sampled_from(["application/x-www-form-urlencoded", "application/json", "text/plain", ""]),
)
async def test_an_unsigned_or_forged_request_always_gets_401(
    slack: SlackDriver, caplog: pytest.LogCaptureFixture, body: bytes, timestamp: str, signature: str, content_type: str
) -> None:
    caplog.set_level(logging.INFO)
    caplog.clear()
    before = await row_counts(slack)
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature}
    headers = {k: v for k, v in headers.items() if v and v.isprintable() and v.strip() == v}
    assert await check(slack, body, headers, before) == 401
    no_tracebacks(caplog)


@FUZZ
@given(
    body=st.binary(max_size=300),
    content_type=st.sampled_from(["application/x-www-form-urlencoded", "application/json", "text/plain"]),
)
async def test_signed_random_bytes_never_get_a_5xx(
    slack: SlackDriver, caplog: pytest.LogCaptureFixture, body: bytes, content_type: str
) -> None:
    caplog.set_level(logging.INFO)
    caplog.clear()
    before = await row_counts(slack)
    timestamp = str(int(time.time()))
    # Signed over the raw bytes, as Slack does (slack_sdk's helper signs text only).
    signature = (
        "v0=" + hmac.new(SIGNING_SECRET.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    )
    headers = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature, "Content-Type": content_type}
    assert await check(slack, body, headers, before) in (400, 404, 415, 200)
    no_tracebacks(caplog)


@FUZZ
@given(payload=json_values | payloads, as_form=st.booleans())
async def test_a_signed_garbage_payload_never_gets_a_5xx_or_writes(
    slack: SlackDriver, caplog: pytest.LogCaptureFixture, payload: Any, as_form: bool
) -> None:
    caplog.set_level(logging.INFO)
    caplog.clear()
    before = await row_counts(slack)
    if as_form:
        body, content_type = urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
    else:
        body, content_type = json.dumps(payload), "application/json"
    await check(slack, body.encode(), signed_headers(body, content_type=content_type), before)
    no_tracebacks(caplog)


@FUZZ
@given(
    fields=st.dictionaries(
        st.sampled_from(
            [
                "command",
                "text",
                "user_id",
                "channel_id",
                "team_id",
                "trigger_id",
                "response_url",
                "payload",
                "ssl_check",
                "token",
            ]
        )
        | st.text(max_size=8),
        st.text(max_size=30),
        max_size=6,
    )
)
async def test_a_signed_random_form_never_gets_a_5xx_or_writes(
    slack: SlackDriver, caplog: pytest.LogCaptureFixture, fields: dict[str, str]
) -> None:
    caplog.set_level(logging.INFO)
    caplog.clear()
    before = await row_counts(slack)
    body = urlencode(fields)
    await check(slack, body.encode(), signed_headers(body), before)
    no_tracebacks(caplog)
