"""Delivering to Slack against its real limits, outages and crashes, end to end: the delivery
worker (pacing, scope pauses in the database), the Slack sender and the fake Slack, all on the
test's manual clock. "Once" is counted from what the fake stored (each message names its row)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.slack.app import make_client
from bot.slack.sender import SlackSender
from handlers.clock import ManualClock
from handlers.messaging import outbox
from handlers.messaging.delivery import DeliveryWorker
from handlers.messaging.ports import Delivered, Delivery
from handlers.views.notice import Notice
from scoring.agreement import ChannelRef
from store.models import OutboxMessage
from tests.fakes.slack_api import Call, FakeSlack
from tests.slack.conftest import SlackDriver

CHANNEL, OTHER = "C0BUSYCHAN", "C0QUIETCHN"


class Died(BaseException):
    """The process died: nothing after this line of the worker ran (no settle, no commit)."""


class DiesAfterSending:
    """A sender whose process dies once Slack has the message, before the worker records it."""

    platform = "slack"

    def __init__(self, inner: SlackSender) -> None:
        self.inner = inner

    def pacing_scopes(self, delivery: Delivery) -> tuple[str, ...]:
        return self.inner.pacing_scopes(delivery)

    async def send(self, delivery: Delivery) -> Delivered | None:
        await self.inner.send(delivery)
        raise Died


@pytest.fixture(autouse=True)
def fake_on_the_clock(fake_slack: FakeSlack, clock: ManualClock) -> Iterator[None]:
    fake_slack.use_clock(lambda: clock.now().timestamp())
    yield


def worker(slack: SlackDriver) -> DeliveryWorker:
    """Another worker (another replica) on the same database, with its own sender and client."""
    return DeliveryWorker(
        slack.runtime.services,
        {"slack": SlackSender(make_client(slack.runtime.settings))},
        lease=slack.runtime.worker.lease,
        pacing=slack.runtime.worker.pacing,
    )


async def cards(slack: SlackDriver, n: int, channels: tuple[str, ...] = (CHANNEL,)) -> None:
    async with slack.runtime.db.transaction() as session:
        for i in range(n):
            await outbox.post(
                session,
                slack.runtime.services,
                Notice(title=f"Card {i}", lines=["x"]),
                to_channel=ChannelRef(slack=channels[i % len(channels)]),
            )


async def rows(slack: SlackDriver) -> list[OutboxMessage]:
    async with slack.runtime.db.transaction() as session:
        return list(
            (
                await session.scalars(
                    select(OutboxMessage).where(OutboxMessage.platform == "slack").order_by(OutboxMessage.id)
                )
            ).all()
        )


async def landed_once(slack: SlackDriver) -> bool:
    """Every Slack row is sent and its message is in the fake exactly once."""
    stored = Counter(m["metadata"]["event_payload"]["outbox_id"] for m in slack.fake.posted() if m.get("metadata"))
    found = await rows(slack)
    return bool(found) and all(r.status == "sent" and stored[r.id] == 1 for r in found)


async def run_for(slack: SlackDriver, seconds: float, *workers: DeliveryWorker, step: float = 0.5) -> None:
    """Sweep with each worker in turn, the clock moving ``step`` seconds between rounds."""
    crews = workers or (slack.runtime.worker,)
    for _ in range(int(seconds / step)):
        for crew in crews:
            await crew.run_once()
        slack.runtime.clock.advance(timedelta(seconds=step))  # type: ignore[attr-defined]


def sent_into_pauses(calls: list[Call], same_scope: bool) -> list[Call]:
    """Calls that arrived while a 429 the fake answered earlier still held their scope closed."""
    inside = []
    for refused in (c for c in calls if c.status == 429):
        until = refused.at + float(refused.retry_after or 0)
        inside += [c for c in calls if refused.at < c.at < until and (not same_scope or c.channel == refused.channel)]
    return inside


async def test_sixty_cards_into_one_channel_at_its_limit_land_once_without_a_429(slack: SlackDriver) -> None:
    slack.fake.limit_channels(rate=1, burst=3)
    await cards(slack, 60)
    start = slack.runtime.clock.now()
    await run_for(slack, 70)
    assert await landed_once(slack)
    posts = slack.fake.calls_to("chat.postMessage")
    assert len(posts) == 60 and not [c for c in posts if c.status == 429]
    assert posts[-1].at - start.timestamp() >= 57  # the limit's floor: 3 at once, then 1 a second


async def test_no_post_enters_a_channel_slack_paused_across_two_workers(slack: SlackDriver) -> None:
    slack.fake.limit_channels(rate=1, burst=3)
    slack.fake.fail("chat.postMessage", status=429, retry_after=20)  # the first post is refused for 20 s
    await cards(slack, 16, (CHANNEL, OTHER))
    await run_for(slack, 40, slack.runtime.worker, worker(slack))
    assert await landed_once(slack)
    posts = slack.fake.calls_to("chat.postMessage")
    (refused,) = [c for c in posts if c.status == 429]
    assert sent_into_pauses(posts, same_scope=True) == []
    other = OTHER if refused.channel == CHANNEL else CHANNEL
    assert [c for c in posts if c.channel == other and refused.at < c.at < refused.at + 20]  # not paused


async def test_a_429_on_another_method_pauses_every_chat_write(slack: SlackDriver) -> None:
    async with slack.runtime.db.transaction() as session:
        for person in ("alice@example.com", "bob@example.com"):
            await outbox.post(session, slack.runtime.services, Notice(title="DM", lines=["x"]), to_person=person)
    await cards(slack, 4)
    slack.fake.fail("conversations.open", status=429, retry_after=10)
    await run_for(slack, 30, slack.runtime.worker, worker(slack))
    assert await landed_once(slack)
    (refused,) = [c for c in slack.fake.calls if c.status == 429]
    writes = [c for c in slack.fake.calls if c.method in ("chat.postMessage", "chat.update", "conversations.open")]
    assert [c for c in writes if refused.at < c.at < refused.at + 10] == []


async def test_an_html_500_outage_then_recovery_delivers_everything_once(slack: SlackDriver) -> None:
    await cards(slack, 12, (CHANNEL, OTHER))
    slack.fake.outage(status=500, html=True)
    await run_for(slack, 15 * 60, step=15)  # a quarter of an hour down
    assert all(r.status == "pending" for r in await rows(slack)) and not slack.fake.posted()
    assert all(c.error == "html" for c in slack.fake.calls)
    slack.fake.recover()
    await run_for(slack, 15 * 60, step=15)
    assert await landed_once(slack)


async def test_a_permanent_ok_false_parks_the_card_at_once(slack: SlackDriver) -> None:
    slack.fake.fail("chat.postMessage", error="channel_not_found")
    await cards(slack, 1)
    await slack.runtime.worker.run_once()
    row, *_alert = await rows(slack)
    assert row.status == "failed" and "channel_not_found" in (row.last_error or "")
    assert slack.fake.calls_to("chat.postMessage")[0].error == "channel_not_found"


async def test_a_crash_between_the_post_and_its_commit_posts_each_card_once(slack: SlackDriver) -> None:
    await cards(slack, 5, (CHANNEL, OTHER))
    dying = DeliveryWorker(
        slack.runtime.services,
        {"slack": DiesAfterSending(SlackSender(make_client(slack.runtime.settings)))},
        lease=slack.runtime.worker.lease,
        pacing=slack.runtime.worker.pacing,
    )
    await dying.run_once()  # the first send of each conversation reached Slack; no settle committed
    assert len(slack.fake.posted()) == 2 and all(r.status == "pending" for r in await rows(slack))
    await run_for(slack, 40, worker(slack))  # a new process, its clock past the lease
    assert await landed_once(slack)
    assert len(slack.fake.calls_to("chat.postMessage")) == 5


async def test_a_dropped_connection_is_retried_and_lands_once(slack: SlackDriver) -> None:
    slack.fake.fail("chat.postMessage", drop=True)
    await cards(slack, 1)
    await run_for(slack, 30)
    assert await landed_once(slack) and len(slack.fake.calls_to("chat.postMessage")) == 2


async def test_a_dropped_answer_after_the_post_landed_is_not_posted_again(slack: SlackDriver) -> None:
    slack.fake.fail("chat.postMessage", drop=True, landed=True)
    await cards(slack, 1)
    await run_for(slack, 30)
    assert await landed_once(slack) and len(slack.fake.calls_to("chat.postMessage")) == 1


@pytest.mark.parametrize(
    "failure",
    [{"drop": True, "landed": True}, {"status": 502, "html": True, "landed": True}],
    ids=["dropped-connection", "html-502"],
)
async def test_a_post_that_may_have_landed_is_looked_up_by_the_replica_that_retries_it(
    slack: SlackDriver, failure: dict[str, object]
) -> None:
    # The first worker's post reaches Slack and is stored, but its answer is lost. Another
    # replica, which has never seen this row, claims the retry: it must look before posting.
    slack.fake.fail("chat.postMessage", **failure)  # type: ignore[arg-type]
    await cards(slack, 1)
    first = worker(slack)
    await first.run_once()
    (row,) = await rows(slack)
    assert row.status == "pending" and row.claimed_at is not None  # kept doubtful in the database
    await run_for(slack, 30, worker(slack))  # only the other replica sweeps from here on
    assert await landed_once(slack)
    assert len(slack.fake.calls_to("chat.postMessage")) == 1
    assert slack.fake.calls_to("conversations.history")


async def test_a_dropped_post_that_never_landed_is_looked_for_then_posted_once(slack: SlackDriver) -> None:
    slack.fake.fail("chat.postMessage", drop=True)  # the socket closed before Slack stored anything
    await cards(slack, 1)
    await worker(slack).run_once()
    (row,) = await rows(slack)
    # A drop after the request was sent is ambiguous even when nothing landed: the retry looks first.
    assert row.status == "pending" and row.claimed_at is not None
    await run_for(slack, 30, worker(slack))
    assert await landed_once(slack) and len(slack.fake.calls_to("chat.postMessage")) == 2
