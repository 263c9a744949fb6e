"""An in-memory, scripted Slack-like sender, and helpers to fill the outbox and sweep it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from handlers.clock import ManualClock
from handlers.messaging import outbox
from handlers.messaging.delivery import DeliveryWorker
from handlers.messaging.pacing import Pacing, parse_limits
from handlers.messaging.ports import Delivered, Delivery
from handlers.services import Services
from handlers.views.lead_card import LeadCard
from handlers.views.notice import Notice
from scoring.agreement import ChannelRef
from store.models import OutboxMessage

Script = Callable[[Delivery], Exception | None]


@dataclass(frozen=True)
class Call:
    at: datetime
    delivery: Delivery
    channel: str
    failed: bool


@dataclass
class ScriptedSender:
    """Answers as ``script`` says (an exception to raise, or None to deliver); records every call
    with the clock's time and the conversation it went to."""

    clock: ManualClock
    script: Script | None = None
    platform: str = "slack"
    calls: list[Call] = field(default_factory=list)

    def pacing_scopes(self, delivery: Delivery) -> tuple[str, ...]:
        return (f"slack:channel:{channel_of(delivery)}", "slack:workspace")

    async def send(self, delivery: Delivery) -> Delivered | None:
        failure = self.script(delivery) if self.script else None
        self.calls.append(Call(self.clock.now(), delivery, channel_of(delivery), failure is not None))
        if failure is not None:
            raise failure
        return Delivered(channel=channel_of(delivery), message_id=f"ts-{delivery.id}")

    @property
    def delivered(self) -> list[Delivery]:
        return [c.delivery for c in self.calls if not c.failed]

    def titles(self) -> list[str]:
        return [title_of(d) for d in self.delivered]


def channel_of(delivery: Delivery) -> str:
    if delivery.op == "update":
        return delivery.target_channel or "?"
    return str(delivery.payload.get("channel") or delivery.payload.get("user") or "?")


def title_of(delivery: Delivery) -> str:
    view = delivery.payload.get("view") or {}
    return str(view.get("title") or view.get("name") or "")


def paced(**kinds: str) -> Pacing:
    """``paced(channel="1/s burst 3")`` -> Slack pacing for those scope kinds."""
    return Pacing({("slack", kind): parse_limits(text) for kind, text in kinds.items()})


async def enqueue(services: Services, title: str, channel: str = "C1", key: str | None = None) -> None:
    async with services.db.transaction() as session:
        await outbox.post(session, services, Notice(title=title), to_channel=ChannelRef(slack=channel), key=key)


def lead_card(name: str, *, fast_track: bool = False) -> LeadCard:
    return LeadCard(
        lead_id=1,
        handoff_id=None,
        name=name,
        email="pat@prospect.example",
        score=80,
        threshold=50,
        fast_track=fast_track,
        stage_label="MQL",
        status="offered",
    )


async def enqueue_card(services: Services, name: str, *, fast_track: bool = False, channel: str = "C1") -> None:
    async with services.db.transaction() as session:
        await outbox.post(
            session, services, lead_card(name, fast_track=fast_track), to_channel=ChannelRef(slack=channel)
        )


async def outbox_rows(services: Services) -> list[OutboxMessage]:
    async with services.db.transaction() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def sweep_for(worker: DeliveryWorker, clock: ManualClock, seconds: float, step: float) -> None:
    """Run a sweep at every ``step`` of clock time for ``seconds``."""
    elapsed = 0.0
    while elapsed <= seconds:
        await worker.run_once()
        clock.advance(timedelta(seconds=step))
        elapsed += step


@pytest.fixture
def sender(clock: ManualClock) -> ScriptedSender:
    return ScriptedSender(clock)
