"""CRM webhooks: signed, retried with backoff (honouring Retry-After), parked as failed, never blocking."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import cli
from bot.components import add_components
from bot.runtime import Runtime
from bot.settings import ConfigError
from bot.webhooks import WebhookSender
from handlers.clock import ManualClock
from handlers.intake.leads import LeadIn, ingest
from handlers.messaging.delivery import DeliveryWorker
from handlers.messaging.ports import retry_after
from handlers.messaging.settle import RetryPolicy
from handlers.services import Services
from store.db import Database
from store.models import OutboxMessage
from tests.conftest import make_settings
from tests.factories import lead_payload, make_agreement
from tests.production.conftest import WEBHOOK_SECRET, Receiver, free_port


def hooks_services(db: Database, clock: ManualClock, *urls: str) -> Services:
    agreement = make_agreement(webhooks=[{"url": u, "events": ["lead.qualified", "lead.offered"]} for u in urls])
    return Services(db=db, agreement=agreement, clock=clock)


def worker_for(services: Services, max_age: timedelta = timedelta(days=3)) -> DeliveryWorker:
    return DeliveryWorker(
        services, {"webhook": WebhookSender(WEBHOOK_SECRET, services.clock)}, policy=RetryPolicy(max_age=max_age)
    )


async def webhook_rows(db: Database) -> list[OutboxMessage]:
    async with db.transaction() as session:
        return list(
            (
                await session.scalars(
                    select(OutboxMessage).where(OutboxMessage.platform == "webhook").order_by(OutboxMessage.id)
                )
            ).all()
        )


async def close(worker: DeliveryWorker) -> None:
    sender = worker.senders["webhook"]
    assert isinstance(sender, WebhookSender)
    await sender.close()


async def test_each_event_arrives_signed_and_the_receiver_can_verify_it(
    db: Database, clock: ManualClock, receiver: Callable[..., Any]
) -> None:
    crm: Receiver = await receiver(now=lambda: clock.now().timestamp())
    services = hooks_services(db, clock, crm.url)
    await ingest(services, [LeadIn.model_validate(lead_payload(external_id="crm-w1"))])
    worker = worker_for(services)
    await worker.run_once()
    await close(worker)
    rows = await webhook_rows(db)
    assert [r.status for r in rows] == ["sent", "sent"]
    assert [r["verified"] for r in crm.received] == [True, True]
    events = [json.loads(r["body"]) for r in crm.received]
    assert [e["event"] for e in events] == ["lead.qualified", "lead.offered"]
    assert [r["headers"]["X-Baton-Event"] for r in crm.received] == ["lead.qualified", "lead.offered"]
    assert [r["headers"]["X-Baton-Delivery"] for r in crm.received] == [str(r.id) for r in rows]
    assert events[1]["lead"]["external_id"] == "crm-w1" and events[1]["lead"]["owner"] is None


async def test_a_receiver_answering_500_then_200_gets_the_event_on_the_retry(
    db: Database, clock: ManualClock, receiver: Callable[..., Any]
) -> None:
    crm: Receiver = await receiver(answers=[500, 500], now=lambda: clock.now().timestamp())
    services = hooks_services(db, clock, crm.url)
    await ingest(services, [LeadIn.model_validate(lead_payload())])
    worker = worker_for(services)
    await worker.run_once()
    waiting = await webhook_rows(db)
    assert [r.status for r in waiting] == ["pending", "pending"]
    assert waiting[0].last_error is not None and waiting[0].last_error.startswith("http_500")
    assert all(r.next_attempt_at > clock.now() for r in waiting)
    clock.advance(timedelta(minutes=5))
    await worker.run_once()
    await close(worker)
    assert [r.status for r in await webhook_rows(db)] == ["sent", "sent"]
    deliveries = [r["headers"]["X-Baton-Delivery"] for r in crm.received]
    assert len(deliveries) == 4 and set(deliveries) == {str(r.id) for r in waiting}
    assert all(r["verified"] for r in crm.received)


async def test_retry_after_from_the_receiver_sets_the_next_attempt(
    db: Database, clock: ManualClock, receiver: Callable[..., Any]
) -> None:
    crm: Receiver = await receiver(answers=[429, 429], retry_after="120")
    services = hooks_services(db, clock, crm.url)
    await ingest(services, [LeadIn.model_validate(lead_payload())])
    worker = worker_for(services)
    await worker.run_once()
    await close(worker)
    assert {r.next_attempt_at for r in await webhook_rows(db)} == {clock.now() + timedelta(seconds=120)}


async def test_a_dead_receiver_is_parked_as_failed_and_blocks_no_other_delivery(
    db: Database, clock: ManualClock, receiver: Callable[..., Any], database_url: str
) -> None:
    crm: Receiver = await receiver()
    down = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    services = hooks_services(db, clock, down, crm.url)
    await ingest(services, [LeadIn.model_validate(lead_payload())])
    worker = worker_for(services, max_age=timedelta(minutes=15))  # parked at the third attempt
    await worker.run_once()
    healthy = [r for r in await webhook_rows(db) if r.payload["url"] == crm.url]
    assert [r.status for r in healthy] == ["sent", "sent"]  # delivered in the same sweep
    for _ in range(3):
        clock.advance(timedelta(minutes=10))
        await worker.run_once()
    await close(worker)
    dead = [r for r in await webhook_rows(db) if r.payload["url"] == down]
    assert [r.status for r in dead] == ["failed", "failed"]
    assert all(r.attempts == 3 and (r.last_error or "").startswith("network:") for r in dead)
    result = await asyncio.to_thread(
        CliRunner().invoke, cli, ["outbox", "list", "--status", "failed"], env={"BATON_DATABASE_URL": database_url}
    )
    assert result.exit_code == 0, result.output
    assert "last error" in result.output and result.output.count("network: ClientConnectorError") == 2


async def test_a_refusing_receiver_is_retried_then_parked_with_its_answer(
    db: Database, clock: ManualClock, receiver: Callable[..., Any]
) -> None:
    crm: Receiver = await receiver(answers=[404] * 4)
    services = hooks_services(db, clock, crm.url)
    await ingest(services, [LeadIn.model_validate(lead_payload())])
    worker = worker_for(services, max_age=timedelta(minutes=5))  # parked at the second attempt
    await worker.run_once()
    clock.advance(timedelta(minutes=10))
    await worker.run_once()
    await close(worker)
    rows = await webhook_rows(db)
    assert [r.status for r in rows] == ["failed", "failed"]
    assert all((r.last_error or "").startswith("http_404: receiver refused the request") for r in rows)


async def test_serve_adds_the_webhook_sender_when_webhooks_are_configured(database_url: str) -> None:
    agreement = make_agreement(webhooks=[{"url": "https://crm.example/hook", "events": ["lead.accepted"]}])
    runtime = Runtime(settings=make_settings(database_url, webhook_secret=WEBHOOK_SECRET), agreement=agreement)
    add_components(runtime)
    assert "webhook" in runtime.worker.senders
    await runtime.db.dispose()


async def test_serve_refuses_webhooks_it_could_not_sign(database_url: str) -> None:
    agreement = make_agreement(webhooks=[{"url": "https://crm.example/hook", "events": ["lead.accepted"]}])
    runtime = Runtime(settings=make_settings(database_url), agreement=agreement)
    with pytest.raises(ConfigError) as raised:
        add_components(runtime)
    assert raised.value.problems[0].startswith("BATON_WEBHOOK_SECRET: required")
    await runtime.db.dispose()


def test_retry_after_takes_seconds_or_an_http_date_and_is_capped() -> None:
    now = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    assert retry_after("30", now) == 30
    assert retry_after("Mon, 23 Nov 2026 15:01:00 GMT", now) == 60
    assert retry_after("999999", now) == 3600
    assert retry_after("soon", now) is None and retry_after(None, now) is None
