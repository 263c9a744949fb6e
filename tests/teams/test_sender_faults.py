"""The Teams sender against the fake connector at its worst: limits, 412, HTML 5xx, dropped
connections, roster and not-found errors, each mapped with its scope or code."""

from __future__ import annotations

from typing import Any

import pytest

from bot.runtime import Runtime
from bot.teams.component import TeamsComponent
from bot.teams.sender import TeamsSender
from handlers.messaging.ports import ConversationGone, Delivery, PermanentFailure, RetryLater
from handlers.views.notice import Notice
from tests.fakes.bot_connector import FakeConnector
from tests.teams.conftest import MANAGERS_CHANNEL, install_channel, install_personal
from tests.teams.test_flow import post

MORGAN = "morgan.manager@example.com"


def sender_of(runtime: Runtime) -> TeamsSender:
    component = next(c for c in runtime.components if isinstance(c, TeamsComponent))
    return component.sender


def card(
    row_id: int = 1, *, channel: str | None = None, user: str | None = "aad-morgan", email: str | None = MORGAN
) -> Delivery:
    view = Notice(title=f"Card {row_id}", lines=["x"]).model_dump(mode="json")
    payload: dict[str, Any] = {"op": "post", "view": view}
    if channel:
        payload["channel"] = channel
    else:
        payload |= {"user": user, "email": email}
    return Delivery(id=row_id, op="post", payload=payload, key=f"k{row_id}")


async def test_a_send_consumes_its_conversation_and_the_tenant(teams_runtime: Runtime) -> None:
    sender = sender_of(teams_runtime)
    assert sender.pacing_scopes(card(channel=MANAGERS_CHANNEL)) == (
        f"teams:conversation:{MANAGERS_CHANNEL}",
        "teams:tenant",
    )
    assert sender.pacing_scopes(card())[0] == "teams:conversation:user:aad-morgan"
    update = Delivery(
        id=2, op="update", payload={"op": "update"}, key="k", target_channel="a:chat", target_message="m1"
    )
    assert sender.pacing_scopes(update) == ("teams:conversation:a:chat", "teams:tenant")


async def test_a_429_pauses_the_conversation_for_retry_after(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector
) -> None:
    await post(teams, install_channel(connector, MANAGERS_CHANNEL, MORGAN))
    connector.fail(429, "TooManyRequests", retry_after="4")
    with pytest.raises(RetryLater) as caught:
        await sender_of(teams_runtime).send(card(channel=MANAGERS_CHANNEL))
    assert (caught.value.after, caught.value.rate_limited) == (4, True)
    assert caught.value.scopes == (f"teams:conversation:{MANAGERS_CHANNEL}",)


async def test_a_429_as_an_http_date_is_read_by_the_one_parser(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector
) -> None:
    await post(teams, install_channel(connector, MANAGERS_CHANNEL, MORGAN))
    connector.fail(429, "TooManyRequests", retry_after="Mon, 23 Nov 2020 15:00:00 GMT")
    with pytest.raises(RetryLater) as caught:
        await sender_of(teams_runtime).send(card(channel=MANAGERS_CHANNEL))
    assert caught.value.after == 0 and caught.value.rate_limited  # a date in the past: no wait


async def test_the_per_conversation_limit_answers_429_past_its_burst(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector
) -> None:
    await post(teams, install_channel(connector, MANAGERS_CHANNEL, MORGAN))
    connector.clock = lambda: 1000.0  # no time passes: nothing refills the bucket
    connector.limit_conversations(rate=7, burst=7)
    sender = sender_of(teams_runtime)
    for n in range(7):
        await sender.send(card(n, channel=MANAGERS_CHANNEL))
    with pytest.raises(RetryLater) as caught:
        await sender.send(card(8, channel=MANAGERS_CHANNEL))
    assert caught.value.rate_limited and caught.value.after == 1
    assert [a.status for a in connector.attempts if a.kind == "send"][-1] == 429


@pytest.mark.parametrize(
    ("status", "code", "html"),
    [
        (412, "PreconditionFailed", False),
        (500, "", True),
        (502, "", True),
        (503, "ServiceUnavailable", False),
        (504, "", True),
    ],
)
async def test_transient_answers_are_retried_later(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector, status: int, code: str, html: bool
) -> None:
    await post(teams, install_channel(connector, MANAGERS_CHANNEL, MORGAN))
    connector.fail(status, code, html=html)
    with pytest.raises(RetryLater) as caught:
        await sender_of(teams_runtime).send(card(channel=MANAGERS_CHANNEL))
    assert not caught.value.rate_limited


async def test_a_dropped_connection_is_retried_later(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector
) -> None:
    await post(teams, install_channel(connector, MANAGERS_CHANNEL, MORGAN))
    connector.fail(0, "", drop=True)
    with pytest.raises(RetryLater):
        await sender_of(teams_runtime).send(card(channel=MANAGERS_CHANNEL))


async def test_bot_not_in_roster_is_gone_with_its_code(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector
) -> None:
    await post(teams, install_personal(connector, MORGAN))
    connector.fail(403, "BotNotInConversationRoster")
    with pytest.raises(ConversationGone) as caught:
        await sender_of(teams_runtime).send(card())
    assert caught.value.code == "BotNotInConversationRoster"


async def test_a_conversation_not_found_is_gone(teams: Any, teams_runtime: Runtime, connector: FakeConnector) -> None:
    await post(teams, install_channel(connector, MANAGERS_CHANNEL, MORGAN))
    connector.fail(404, "ConversationNotFound")
    with pytest.raises(ConversationGone) as caught:
        await sender_of(teams_runtime).send(card(channel=MANAGERS_CHANNEL))
    assert caught.value.code == "ConversationNotFound"


@pytest.mark.parametrize(("status", "code"), [(400, "BadArgument"), (403, "Forbidden"), (413, "")])
async def test_other_refusals_fail_for_good_with_the_connectors_code(
    teams: Any, teams_runtime: Runtime, connector: FakeConnector, status: int, code: str
) -> None:
    await post(teams, install_channel(connector, MANAGERS_CHANNEL, MORGAN))
    connector.fail(status, code)
    with pytest.raises(PermanentFailure) as caught:
        await sender_of(teams_runtime).send(card(channel=MANAGERS_CHANNEL))
    assert not isinstance(caught.value, ConversationGone) and caught.value.code == (code or str(status))
