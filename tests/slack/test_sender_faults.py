"""The Slack sender against the fake at its worst: every failure becomes RetryLater, PermanentFailure
or ConversationGone with the right scopes, and a doubtful post is looked up before it is sent again."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.sender import SlackSender
from handlers.messaging.ports import ConversationGone, Delivered, Delivery, PermanentFailure, RetryLater
from handlers.views.notice import Notice
from tests.fakes.slack_api import FakeSlack
from tests.slack.conftest import BOT_TOKEN

CLAIMED = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    now = {"t": CLAIMED.timestamp()}
    fake = await FakeSlack(clock=lambda: now["t"]).start()
    yield fake
    await fake.stop()


@pytest.fixture
def sender(fake: FakeSlack) -> SlackSender:
    return SlackSender(AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url))


def card(
    row_id: int = 1,
    *,
    channel: str | None = "C0EMEASALES",
    user: str | None = None,
    op: str = "post",
    doubtful: bool = False,
    image: bytes | None = None,
    **extra: Any,
) -> Delivery:
    payload: dict[str, Any] = {"op": op, "view": Notice(title=f"Card {row_id}", lines=["x"]).model_dump(mode="json")}
    if channel:
        payload["channel"] = channel
    if user:
        payload["user"] = user
    if image is not None:
        payload |= {"image_b64": base64.b64encode(image).decode(), "image_name": "week.png"}
    return Delivery(
        id=row_id,
        op=op,
        payload=payload,
        key=f"k{row_id}",
        doubtful=doubtful,
        claimed_at=CLAIMED if doubtful else None,
        **extra,
    )


def test_a_post_consumes_its_channel_and_the_workspace() -> None:
    sender = SlackSender(AsyncWebClient(token=BOT_TOKEN))
    assert sender.pacing_scopes(card()) == ("slack:channel:C0EMEASALES", "slack:workspace")
    assert sender.pacing_scopes(card(channel=None, user="U0ALICE001")) == (
        "slack:channel:dm:U0ALICE001",
        "slack:workspace",
    )
    update = card(op="update", target_channel="C0EMEASALES", target_message="1.2")
    assert sender.pacing_scopes(update) == ("slack:update", "slack:workspace")


def test_the_sender_never_lets_slack_sdk_retry_by_itself() -> None:
    sender = SlackSender(AsyncWebClient(token=BOT_TOKEN))  # the default client retries connection errors
    assert sender.client.retry_handlers == []


async def test_a_429_on_a_post_pauses_that_channel_for_retry_after(fake: FakeSlack, sender: SlackSender) -> None:
    fake.fail("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(RetryLater) as caught:
        await sender.send(card())
    assert (caught.value.after, caught.value.rate_limited) == (7, True)
    assert caught.value.scopes == ("slack:channel:C0EMEASALES",)


async def test_a_429_on_an_update_pauses_chat_updates(fake: FakeSlack, sender: SlackSender) -> None:
    fake.fail("chat.update", status=429, retry_after=30)
    with pytest.raises(RetryLater) as caught:
        await sender.send(card(op="update", target_channel="C0EMEASALES", target_message="1.2"))
    assert caught.value.scopes == ("slack:update",) and caught.value.after == 30


async def test_a_429_opening_a_dm_pauses_the_workspace(fake: FakeSlack, sender: SlackSender) -> None:
    fake.fail("conversations.open", status=429, retry_after=3)
    with pytest.raises(RetryLater) as caught:
        await sender.send(card(channel=None, user="U0ALICE001"))
    assert caught.value.scopes == ("slack:workspace",) and caught.value.rate_limited


async def test_the_channel_limit_answers_429_after_its_burst(fake: FakeSlack, sender: SlackSender) -> None:
    fake.limit_channels(rate=1, burst=3)
    for n in range(3):
        await sender.send(card(n))
    with pytest.raises(RetryLater) as caught:
        await sender.send(card(4))
    assert caught.value.after == 1 and caught.value.scopes == ("slack:channel:C0EMEASALES",)
    await sender.send(card(5, channel="C0OTHER"))  # another channel has its own bucket


@pytest.mark.parametrize("content_type", ["text/html", "application/json", "text/plain"])
async def test_a_500_with_an_html_body_is_retried_later(
    fake: FakeSlack, sender: SlackSender, content_type: str
) -> None:
    fake.fail("chat.postMessage", status=500, html=True, content_type=content_type)
    with pytest.raises(RetryLater) as caught:
        await sender.send(card())
    assert not caught.value.rate_limited


@pytest.mark.parametrize("content_type", ["text/html", "text/plain"])
async def test_a_200_with_a_body_that_is_not_slacks_is_retried_later(
    fake: FakeSlack, sender: SlackSender, content_type: str
) -> None:
    fake.fail("chat.postMessage", status=200, html=True, content_type=content_type)
    with pytest.raises(RetryLater):
        await sender.send(card())


@pytest.mark.parametrize(
    "error", ["ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"]
)
async def test_transient_ok_false_is_retried_later(fake: FakeSlack, sender: SlackSender, error: str) -> None:
    fake.fail("chat.postMessage", error=error)
    with pytest.raises(RetryLater):
        await sender.send(card())


@pytest.mark.parametrize(
    ("error", "gone"),
    [
        ("channel_not_found", False),
        ("not_in_channel", False),
        ("invalid_auth", False),
        ("invalid_blocks", False),
        ("is_archived", True),
        ("user_not_found", True),
        ("account_inactive", True),
    ],
)
async def test_permanent_ok_false_fails_with_slacks_code(
    fake: FakeSlack, sender: SlackSender, error: str, gone: bool
) -> None:
    fake.fail("chat.postMessage", error=error)
    with pytest.raises(PermanentFailure) as caught:
        await sender.send(card())
    assert caught.value.code == error and isinstance(caught.value, ConversationGone) is gone


async def test_a_dropped_connection_is_retried_later_and_not_by_slack_sdk(fake: FakeSlack, sender: SlackSender) -> None:
    fake.fail("chat.postMessage", drop=True)
    with pytest.raises(RetryLater):
        await sender.send(card())
    assert len(fake.calls_to("chat.postMessage")) == 1


async def test_a_slow_answer_times_out_and_is_retried_later(fake: FakeSlack) -> None:
    sender = SlackSender(AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url, timeout=1))
    fake.fail("chat.postMessage", delay=1.5)
    with pytest.raises(RetryLater):
        await sender.send(card())


async def test_every_post_names_its_outbox_row_in_message_metadata(fake: FakeSlack, sender: SlackSender) -> None:
    await sender.send(card(42))
    (message,) = fake.posted("C0EMEASALES")
    assert message["metadata"] == {"event_type": "baton_outbox", "event_payload": {"outbox_id": 42}}


async def test_a_doubtful_post_already_in_the_channel_is_not_posted_again(fake: FakeSlack, sender: SlackSender) -> None:
    first = await sender.send(card(7))
    again = await sender.send(card(7, doubtful=True))
    assert again == first and len(fake.posted("C0EMEASALES")) == 1
    (lookup,) = fake.calls_to("conversations.history")
    assert lookup.body["include_all_metadata"] in ("1", "true", True)
    assert float(lookup.body["oldest"]) < CLAIMED.timestamp()


async def test_a_doubtful_post_that_never_landed_is_posted(fake: FakeSlack, sender: SlackSender) -> None:
    await sender.send(card(8))
    delivered = await sender.send(card(9, doubtful=True))
    assert delivered is not None and len(fake.posted("C0EMEASALES")) == 2


async def test_a_doubtful_dm_is_looked_up_in_the_im_channel(fake: FakeSlack, sender: SlackSender) -> None:
    first = await sender.send(card(3, channel=None, user="U0ALICE001"))
    fresh = SlackSender(AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url))  # another replica
    assert await fresh.send(card(3, channel=None, user="U0ALICE001", doubtful=True)) == first
    assert fake.calls_to("conversations.history")[0].body["channel"] == "D0ALICE001"
    assert len(fake.posted("D0ALICE001")) == 1


async def test_the_lookup_pages_through_a_busy_channel(fake: FakeSlack, sender: SlackSender) -> None:
    target = await sender.send(card(1))
    for n in range(2, 260):
        await sender.send(card(n))
    assert await sender.send(card(1, doubtful=True)) == target
    assert len(fake.calls_to("conversations.history")) == 2 and len(fake.posted("C0EMEASALES")) == 259


async def test_an_answer_lost_to_a_dropped_connection_is_looked_up_before_the_next_post(
    fake: FakeSlack, sender: SlackSender
) -> None:
    fake.fail("chat.postMessage", drop=True, landed=True)
    with pytest.raises(RetryLater):
        await sender.send(card(5))
    delivered = await sender.send(card(5))  # the worker does not know; this process does
    assert isinstance(delivered, Delivered) and len(fake.posted("C0EMEASALES")) == 1


async def test_a_lookup_that_fails_for_a_while_keeps_the_post_waiting(fake: FakeSlack, sender: SlackSender) -> None:
    fake.fail("conversations.history", status=503, html=True)
    with pytest.raises(RetryLater):
        await sender.send(card(6, doubtful=True))
    assert not fake.posted()


async def test_a_lookup_slack_refuses_for_good_posts_rather_than_loses(fake: FakeSlack, sender: SlackSender) -> None:
    fake.fail("conversations.history", error="missing_scope")
    assert await sender.send(card(6, doubtful=True)) is not None
    assert len(fake.posted("C0EMEASALES")) == 1


async def test_a_doubtful_chart_upload_is_found_by_its_block_id(fake: FakeSlack, sender: SlackSender) -> None:
    first = await sender.send(card(11, channel="C0SALESMGRS", image=b"\x89PNG"))
    again = await sender.send(card(11, channel="C0SALESMGRS", image=b"\x89PNG", doubtful=True))
    assert again == first and len(fake.calls_to("files.completeUploadExternal")) == 1


async def test_the_lookup_starts_a_little_before_the_claim(fake: FakeSlack, sender: SlackSender) -> None:
    await sender.send(card(12, doubtful=True))
    (lookup,) = fake.calls_to("conversations.history")
    assert CLAIMED.timestamp() - float(lookup.body["oldest"]) == timedelta(minutes=5).total_seconds()
