"""Delivering to Teams against the connector's limits and outages, end to end: the delivery worker
(pacing, scope pauses in the database), the Teams sender and the fake connector on the test's
manual clock. The connector cannot be searched, so a crash between send and commit can still
post twice (see bot/teams/sender.py); everything else lands exactly once."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.runtime import Runtime
from bot.teams.component import TeamsComponent
from bot.teams.sender import TeamsSender
from handlers.clock import ManualClock
from handlers.messaging import outbox
from handlers.messaging.delivery import DeliveryWorker
from handlers.views.notice import Notice
from scoring.agreement import ChannelRef
from store.models import OutboxMessage
from tests.fakes.bot_connector import FakeConnector
from tests.teams.conftest import EMEA_CHANNEL, MANAGERS_CHANNEL, install_channel
from tests.teams.test_flow import post

MORGAN = "morgan.manager@example.com"


@pytest.fixture(autouse=True)
def connector_on_the_clock(connector: FakeConnector, clock: ManualClock) -> Iterator[None]:
    connector.clock = lambda: clock.now().timestamp()
    yield


@pytest.fixture
async def installed(teams: Any, connector: FakeConnector) -> None:
    for channel in (MANAGERS_CHANNEL, EMEA_CHANNEL):
        await post(teams, install_channel(connector, channel, MORGAN))


def worker(runtime: Runtime) -> DeliveryWorker:
    """Another worker (another replica) on the same database, with its own sender."""
    component = next(c for c in runtime.components if isinstance(c, TeamsComponent))
    sender = TeamsSender(runtime.services, component.adapter, runtime.settings.microsoft_app_id or "")
    return DeliveryWorker(runtime.services, {"teams": sender}, lease=runtime.worker.lease, pacing=runtime.worker.pacing)


async def cards(runtime: Runtime, n: int, channels: tuple[str, ...] = (MANAGERS_CHANNEL,)) -> None:
    async with runtime.db.transaction() as session:
        for i in range(n):
            await outbox.post(
                session,
                runtime.services,
                Notice(title=f"Card {i}", lines=["x"]),
                to_channel=ChannelRef(teams=channels[i % len(channels)]),
            )


async def landed_once(runtime: Runtime, connector: FakeConnector, n: int) -> bool:
    titles = Counter(
        match.group(1) for call in connector.of_kind("send") if (match := re.search(r"Card (\d+)", str(call.card)))
    )
    async with runtime.db.transaction() as session:
        statuses = (await session.scalars(select(OutboxMessage.status).where(OutboxMessage.platform == "teams"))).all()
    return set(statuses) == {"sent"} and len(statuses) == n and titles == Counter(str(i) for i in range(n))


async def run_for(runtime: Runtime, seconds: float, *workers: DeliveryWorker, step: float = 0.25) -> None:
    crews = workers or (runtime.worker,)
    for _ in range(int(seconds / step)):
        for crew in crews:
            await crew.run_once()
        runtime.clock.advance(timedelta(seconds=step))  # type: ignore[attr-defined]


@pytest.mark.usefixtures("installed")
async def test_forty_cards_into_one_conversation_are_paced_under_its_limit(
    teams_runtime: Runtime, connector: FakeConnector
) -> None:
    connector.limit_conversations(rate=7, burst=7)
    await cards(teams_runtime, 40)
    await run_for(teams_runtime, 120, step=0.5)  # the 1800/1h tier alone needs a card every 2 s
    assert await landed_once(teams_runtime, connector, 40)
    assert not [a for a in connector.attempts if a.status == 429]


@pytest.mark.usefixtures("installed")
async def test_no_send_enters_a_conversation_teams_paused_across_two_workers(
    teams_runtime: Runtime, connector: FakeConnector
) -> None:
    connector.fail(429, "TooManyRequests", retry_after="10")
    await cards(teams_runtime, 40, (MANAGERS_CHANNEL, EMEA_CHANNEL))  # 20 each: several seconds of pacing
    await run_for(teams_runtime, 120, teams_runtime.worker, worker(teams_runtime), step=0.5)
    assert await landed_once(teams_runtime, connector, 40)
    sends = [a for a in connector.attempts if a.kind == "send"]
    (refused,) = [a for a in sends if a.status == 429]
    window = [a for a in sends if refused.at < a.at < refused.at + 10]
    assert not [a for a in window if a.conversation_id == refused.conversation_id]
    assert [a for a in window if a.conversation_id != refused.conversation_id]  # the other one went on


@pytest.mark.usefixtures("installed")
async def test_a_gateway_outage_with_html_pages_then_recovery_delivers_everything_once(
    teams_runtime: Runtime, connector: FakeConnector
) -> None:
    connector.fail(502, "", html=True, times=10_000)
    await cards(teams_runtime, 6, (MANAGERS_CHANNEL, EMEA_CHANNEL))
    await run_for(teams_runtime, 10 * 60, step=15)
    assert not connector.of_kind("send") and all(a.status == 502 for a in connector.attempts)
    connector.failures.clear()
    await run_for(teams_runtime, 10 * 60, step=15)
    assert await landed_once(teams_runtime, connector, 6)


@pytest.mark.usefixtures("installed")
async def test_a_412_is_retried_and_lands_once(teams_runtime: Runtime, connector: FakeConnector) -> None:
    connector.fail(412, "PreconditionFailed")
    await cards(teams_runtime, 1)
    await run_for(teams_runtime, 30)
    assert await landed_once(teams_runtime, connector, 1)


@pytest.mark.usefixtures("installed")
async def test_a_dropped_connection_is_retried_and_lands_once(teams_runtime: Runtime, connector: FakeConnector) -> None:
    connector.fail(0, "", drop=True)
    await cards(teams_runtime, 1)
    await run_for(teams_runtime, 30)
    assert await landed_once(teams_runtime, connector, 1)
    assert [a.status for a in connector.attempts if a.kind == "send"] == [0, 201]


@pytest.mark.usefixtures("installed")
async def test_a_403_from_the_connector_parks_the_card_at_once(
    teams_runtime: Runtime, connector: FakeConnector
) -> None:
    connector.fail(403, "Forbidden")
    await cards(teams_runtime, 1)
    await teams_runtime.worker.run_once()
    async with teams_runtime.db.transaction() as session:
        row = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).first()
    assert row is not None and row.status == "failed" and "403" in (row.last_error or "")
