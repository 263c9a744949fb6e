"""Property-based hostile input on /api/messages: arbitrary JSON and arbitrary activities, in the
Emulator's unauthenticated mode and with tokens. Never a 5xx, never a traceback in the log, and a
refused request writes nothing."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from store.db import Database
from store.models import Base
from tests.fakes.bot_connector import FakeConnector
from tests.teams.conftest import BOT_ID, TENANT
from tests.teams.signing import APP_ID, SignedTeams, bearer, mint_raw

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
accounts = st.fixed_dictionaries(
    {},
    optional={
        "id": st.sampled_from(["29:aad-alice", BOT_ID]) | json_values,
        "aadObjectId": st.sampled_from(["aad-alice"]) | json_values,
        "name": json_values,
        "role": json_values,
    },
)
conversations = (
    st.fixed_dictionaries(
        {},
        optional={
            "id": st.sampled_from(["a:personal-aad-alice", "19:x@thread.tacv2;messageid=1"]) | json_values,
            "conversationType": st.sampled_from(["personal", "channel", "groupChat"]) | json_values,
            "tenantId": st.just(TENANT) | json_values,
        },
    )
    | json_values
)
card_values = (
    st.fixed_dictionaries(
        {},
        optional={
            "action": st.fixed_dictionaries(
                {},
                optional={
                    "type": st.sampled_from(["Action.Execute", "Action.Submit"]) | json_values,
                    "verb": st.sampled_from(["accept", "reject", "claim", "log_call"]) | json_values,
                    "data": json_values,
                },
            )
        },
    )
    | json_values
)


def envelopes(service_url: str) -> st.SearchStrategy[dict[str, Any]]:
    """Activities whose envelope (serviceUrl, tenant, conversation) is right and the rest arbitrary,
    so the examples reach the turn logic rather than stop at the envelope checks."""
    return st.fixed_dictionaries(
        {
            "type": st.sampled_from(["message", "invoke", "conversationUpdate", "event", "installationUpdate"]),
            "serviceUrl": st.just(service_url),
            "channelId": st.just("msteams"),
            "conversation": st.fixed_dictionaries(
                {
                    "id": st.sampled_from(["a:personal-aad-alice", "19:x@thread.tacv2;messageid=1"]),
                    "tenantId": st.just(TENANT),
                },
                optional={"conversationType": st.sampled_from(["personal", "channel"]) | json_values},
            ),
            "channelData": st.fixed_dictionaries(
                {"tenant": st.just({"id": TENANT})}, optional={"team": json_values, "channel": json_values}
            ),
        },
        optional={
            "id": st.text(max_size=10),
            "from": accounts,
            "recipient": accounts,
            "text": st.text(max_size=30),
            "name": st.sampled_from(["adaptiveCard/action", "x"]),
            "value": card_values,
            "membersAdded": st.lists(accounts, max_size=2),
            "membersRemoved": st.lists(accounts, max_size=2),
            "entities": st.lists(json_values, max_size=2),
            "replyToId": st.text(max_size=10),
        },
    )


def activities(service_url: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "type": st.sampled_from(["message", "invoke", "conversationUpdate", "messageReaction", "event", "typing"])
            | st.text(max_size=10)
        },
        optional={
            "id": json_values,
            "channelId": st.sampled_from(["msteams", "emulator"]) | json_values,
            "serviceUrl": st.just(service_url) | json_values,
            "from": accounts | json_values,
            "recipient": accounts,
            "conversation": conversations,
            "channelData": st.fixed_dictionaries(
                {},
                optional={
                    "tenant": st.fixed_dictionaries({"id": st.just(TENANT) | json_values}),
                    "team": json_values,
                    "channel": json_values,
                },
            )
            | json_values,
            "text": json_values,
            "name": st.sampled_from(["adaptiveCard/action"]) | json_values,
            "value": card_values,
            "membersAdded": st.lists(accounts, max_size=2) | json_values,
            "membersRemoved": st.lists(accounts, max_size=2) | json_values,
            "entities": json_values,
            "attachments": json_values,
            "timestamp": json_values,
            "locale": json_values,
        },
    )


async def row_counts(db: Database) -> dict[str, int]:
    async with db.transaction() as session:
        return {
            t.name: int(await session.scalar(select(func.count()).select_from(t)) or 0)
            for t in Base.metadata.sorted_tables
        }


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        assert record.exc_info is None or record.levelno <= logging.DEBUG, record.getMessage()
        assert "Traceback" not in record.getMessage()
        assert record.levelno < logging.ERROR, record.getMessage()


@FUZZ
@given(body=json_values)
async def test_arbitrary_json_is_refused_with_a_4xx_and_writes_nothing(
    teams: Any, teams_runtime: Any, caplog: pytest.LogCaptureFixture, body: Any
) -> None:
    caplog.set_level(logging.INFO)
    caplog.clear()
    before = await row_counts(teams_runtime.db)
    response = await teams.post("/api/messages", data=json.dumps(body), headers={"Content-Type": "application/json"})
    assert 400 <= response.status < 500
    assert await row_counts(teams_runtime.db) == before
    no_tracebacks(caplog)


@FUZZ
@given(data=st.data())
async def test_an_arbitrary_activity_in_emulator_mode_never_gets_a_5xx(
    teams: Any, teams_runtime: Any, connector: FakeConnector, caplog: pytest.LogCaptureFixture, data: st.DataObject
) -> None:
    caplog.set_level(logging.INFO)
    caplog.clear()
    body = data.draw(activities(connector.url) | envelopes(connector.url))
    before = await row_counts(teams_runtime.db)
    response = await teams.post("/api/messages", data=json.dumps(body), headers={"Content-Type": "application/json"})
    event(f"status {response.status}")
    assert response.status < 500, await response.text()
    if response.status >= 400:
        assert await row_counts(teams_runtime.db) == before
    no_tracebacks(caplog)


bad_claims = st.fixed_dictionaries(
    {},
    optional={
        "iss": st.sampled_from(["https://api.botframework.com", "https://evil.example"]) | json_values,
        "aud": st.sampled_from(["someone-else", APP_ID.upper()]) | json_values,
        "serviceurl": json_values,
        "exp": st.integers() | json_values,
        "nbf": st.integers() | json_values,
    },
)


@FUZZ
@given(data=st.data(), token=st.one_of(st.text(max_size=60), st.just("a.b.c"), st.none()))
async def test_an_arbitrary_activity_with_a_bad_token_gets_a_4xx_and_writes_nothing(
    signed: SignedTeams,
    connector: FakeConnector,
    signing_key: Any,
    caplog: pytest.LogCaptureFixture,
    data: st.DataObject,
    token: str | None,
) -> None:
    caplog.set_level(logging.INFO)
    caplog.clear()
    body = data.draw(activities(connector.url))
    if token is None:  # signed by Microsoft's key, but with claims that are wrong somewhere
        token = mint_raw(signing_key, data.draw(bad_claims))
    header = f"Bearer {token}" if token.isprintable() and token.strip() == token else "Bearer x"
    before = await row_counts(signed.runtime.db)
    response = await signed.client.post(
        "/api/messages", data=json.dumps(body), headers={"Content-Type": "application/json", "Authorization": header}
    )
    assert response.status in (400, 401), await response.text()
    assert await row_counts(signed.runtime.db) == before and connector.calls == []
    no_tracebacks(caplog)


def test_the_bearer_helper_builds_the_header() -> None:
    assert bearer("t") == {"Authorization": "Bearer t"}
