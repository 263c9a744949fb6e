"""First click wins: racing Claims on one channel card go to the rep whose click Slack delivered first.

Each trial sends one rep's Claim, waits only until Baton has received it (its arrival number is
taken, long before its ack or any database work), then sends the other rep's. Baton must hand
the lead to the first every time, however the listeners wake after the ack burst.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

from sqlalchemy import select

from handlers.views.actions import Action
from store.models import Lead
from tests.slack.conftest import CLARA, DAVID, EMEA_CHANNEL, SlackDriver, offer

EMAIL = {CLARA: "clara@example.com", DAVID: "david@example.com"}
TRIALS = 30


async def _arrived(slack: SlackDriver, count: int) -> None:
    gate = slack.component.deps.acks

    async def poll() -> None:
        # The count is a plain int: polled once per loop turn.
        while gate.issued < count:  # noqa: ASYNC110
            await asyncio.sleep(0)

    await asyncio.wait_for(poll(), 5)


async def _race(slack: SlackDriver, first: str, second: str) -> str | None:
    data = await offer(slack.runtime, country="DE")
    payloads = [slack.click_payload(user, Action.CLAIM, data.pack(), channel=EMEA_CHANNEL) for user in (first, second)]
    before = slack.component.deps.acks.issued
    sent: list[asyncio.Task[Any]] = [asyncio.create_task(slack.interact(payloads[0]))]
    await _arrived(slack, before + 1)
    sent.append(asyncio.create_task(slack.interact(payloads[1])))
    replies = await asyncio.wait_for(asyncio.gather(*sent), 10)
    assert [r.status for r in replies] == [200, 200]
    assert await slack.component.idle(10)
    async with slack.runtime.db.transaction() as session:
        return await session.scalar(select(Lead.owner).where(Lead.id == data.lead_id))


async def test_the_claim_slack_delivered_first_wins_every_time(slack: SlackDriver) -> None:
    winners = []
    for trial in range(TRIALS):
        first, second = (CLARA, DAVID) if trial % 2 == 0 else (DAVID, CLARA)
        winners.append((await _race(slack, first, second), EMAIL[first]))
    assert [won for won, _first in winners] == [first for _won, first in winners]


async def test_the_later_claim_is_told_who_got_there_first(slack: SlackDriver) -> None:
    await _race(slack, CLARA, DAVID)
    answers = [str(r.body.get("text")) for r in slack.fake.responses]
    assert sum("You accepted" in a for a in answers) == 1
    assert any("Already accepted by" in a for a in answers)


async def test_clicks_on_different_leads_do_not_wait_for_each_other(slack: SlackDriver) -> None:
    one, two = await offer(slack.runtime, country="DE"), await offer(slack.runtime, country="DE")
    gate = slack.component.deps.acks
    # A click on `one` that never runs (its ticket taken outside this test's context).
    assert contextvars.copy_context().run(gate.ticket, f"lead:{one.lead_id}") is not None
    reply = await slack.click(CLARA, Action.CLAIM, two.pack(), channel=EMEA_CHANNEL)
    assert reply.status == 200 and "You accepted" in slack.last_answer()
    assert gate.issued >= 2
