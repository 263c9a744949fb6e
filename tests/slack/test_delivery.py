"""Delivering to Slack: 429 and 5xx are retried as Slack asks, nothing is lost or sent twice."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.slack.app import make_client
from bot.slack.sender import SlackSender
from handlers.messaging.delivery import DeliveryWorker
from store.models import OutboxMessage, SentMessage
from tests.slack.conftest import SlackDriver, offer


async def _rows(slack: SlackDriver) -> list[OutboxMessage]:
    async with slack.runtime.db.transaction() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


def _advance(slack: SlackDriver, seconds: float) -> None:
    slack.runtime.clock.advance(timedelta(seconds=seconds))  # type: ignore[attr-defined]


async def test_a_429_is_retried_after_retry_after_and_delivered_once(slack: SlackDriver) -> None:
    await offer(slack.runtime, country="DE")
    slack.fake.fail("chat.postMessage", status=429, retry_after=30)
    assert await slack.deliver() == 0
    (row,) = await _rows(slack)
    assert row.status == "pending" and "rate limited" in (row.last_error or "")
    assert row.next_attempt_at == slack.runtime.clock.now() + timedelta(seconds=30)
    _advance(slack, 29)
    assert await slack.deliver() == 0
    _advance(slack, 1)
    assert await slack.deliver() == 1
    assert len(slack.fake.calls_to("chat.postMessage")) == 2
    assert (await _rows(slack))[0].status == "sent"


async def test_a_500_is_retried_with_backoff_and_delivered_once(slack: SlackDriver) -> None:
    await offer(slack.runtime, country="DE")
    slack.fake.fail("chat.postMessage", status=500, times=2)
    assert await slack.deliver() == 0
    _advance(slack, 5)
    assert await slack.deliver() == 0
    _advance(slack, 10)
    assert await slack.deliver() == 1
    (row,) = await _rows(slack)
    assert row.status == "sent" and row.attempts == 3 and len(slack.fake.calls_to("chat.postMessage")) == 3


async def test_an_update_waits_for_its_post_when_the_post_is_rate_limited(slack: SlackDriver) -> None:
    from handlers.handoff.accept import accept

    data = await offer(slack.runtime, country="DE")
    await accept(slack.runtime.services, data, "clara@example.com", "test")
    slack.fake.fail("chat.postMessage", status=429, retry_after=1)
    await slack.deliver()
    assert not slack.fake.calls_to("chat.update")
    _advance(slack, 1)
    await slack.deliver()
    (update,) = slack.fake.calls_to("chat.update")
    assert (update.body["channel"], update.body["ts"]) == ("C0EMEASALES", "1764000000.000001")


async def test_a_restart_delivers_undelivered_rows_exactly_once(slack: SlackDriver) -> None:
    for country in ("US", "DE", "US", "DE"):
        await offer(slack.runtime, country=country)
    # The process "died" before delivering; a new worker (as after a restart) picks the rows up.
    fresh = DeliveryWorker(slack.runtime.services, {"slack": SlackSender(make_client(slack.runtime.settings))})
    assert await fresh.run_once() == 4
    again = DeliveryWorker(slack.runtime.services, {"slack": SlackSender(make_client(slack.runtime.settings))})
    assert await again.run_once() == 0 and await fresh.run_once() == 0
    posts = slack.fake.calls_to("chat.postMessage")
    assert len(posts) == 4
    async with slack.runtime.db.transaction() as session:
        keys = (await session.scalars(select(SentMessage.key))).all()
    assert len(keys) == 4 and Counter(keys).most_common(1)[0][1] == 1


async def test_a_row_claimed_by_a_worker_that_died_is_delivered_after_its_lease(slack: SlackDriver) -> None:
    await offer(slack.runtime, country="DE")
    dead = DeliveryWorker(slack.runtime.services, {"slack": SlackSender(make_client(slack.runtime.settings))})
    await dead._claim()  # claimed, then the process died before sending
    assert await slack.deliver() == 0
    _advance(slack, 61)
    assert await slack.deliver() == 1 and len(slack.fake.calls_to("chat.postMessage")) == 1


@pytest.mark.parametrize(
    ("error", "gone"),
    [
        ("channel_not_found", False),
        ("not_in_channel", False),
        ("invalid_auth", False),
        ("is_archived", True),
        ("account_inactive", True),
    ],
)
async def test_errors_retrying_cannot_fix_fail_the_row_at_once(slack: SlackDriver, error: str, gone: bool) -> None:
    gone_seen: list[str] = []
    slack.runtime.worker.on_gone = lambda delivery, reason: gone_seen.append(reason)
    await offer(slack.runtime, country="DE")
    slack.fake.fail("chat.postMessage", error=error)
    assert await slack.deliver() == 2  # the card, parked, and the admins' alert it raised
    row, _alert = await _rows(slack)
    assert row.status == "failed" and error in (row.last_error or "")
    assert bool(gone_seen) is gone


async def test_a_digest_chart_is_uploaded_with_its_blocks_in_one_message(slack: SlackDriver) -> None:
    from handlers.messaging import outbox
    from handlers.views.notice import Notice
    from scoring.agreement import ChannelRef

    async with slack.runtime.db.transaction() as session:
        await outbox.post(
            session,
            slack.runtime.services,
            Notice(title="Weekly digest", lines=["12 MQLs"]),
            to_channel=ChannelRef(slack="C0SALESMGRS"),
            image=b"\x89PNG fake",
            image_name="week.png",
        )
    assert await slack.deliver() == 1
    (complete,) = slack.fake.calls_to("files.completeUploadExternal")
    assert complete.body["channel_id"] == "C0SALESMGRS" and "Weekly digest" in str(complete.body["blocks"])
    assert list(slack.fake.uploads.values()) == [b"\x89PNG fake"]
    assert not slack.fake.calls_to("chat.postMessage")
