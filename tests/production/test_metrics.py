"""GET /metrics: present, in Prometheus format, and moving with what Baton does."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from bot.runtime import Runtime
from handlers.clock import ManualClock
from handlers.messaging import events
from handlers.messaging.delivery import DeliveryResult
from handlers.messaging.ports import Delivered, Delivery, RetryLater
from store.models import Lead
from tests.conftest import auth
from tests.factories import lead_payload


async def scrape(api: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await api.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_intake_moves_the_received_qualified_and_offered_counters(api: Any) -> None:
    before = await scrape(api)
    await api.post("/api/leads", json=[lead_payload(), lead_payload(employees=20)], headers=auth())
    after = await scrape(api)
    assert value(after, "baton_leads_received_total") - value(before, "baton_leads_received_total") == 2
    assert value(after, "baton_leads_qualified_total") - value(before, "baton_leads_qualified_total") == 1
    assert value(after, "baton_offers_total") - value(before, "baton_offers_total") == 1


async def test_outbox_backlog_is_counted_at_scrape_time(api: Any) -> None:
    await api.post("/api/leads", json=[lead_payload(), lead_payload(country="DE")], headers=auth())
    samples = await scrape(api)
    # No Slack sender in this process: both cards wait in the shared outbox.
    assert value(samples, "baton_outbox_backlog", platform="slack") == 2
    assert value(samples, "baton_outbox_oldest_pending_seconds") >= 0


async def test_http_latency_is_labelled_by_route_template_not_raw_path(api: Any) -> None:
    await api.get("/api/leads/crm-does-not-exist-1", headers=auth())
    await api.get("/api/leads/crm-does-not-exist-2", headers=auth())
    samples = await scrape(api)
    assert (
        value(samples, "baton_http_request_seconds_count", route="/api/leads/{external_id}", method="GET", status="404")
        == 2
    )
    assert not any("crm-does-not-exist" in str(key) for key in samples)


async def test_rejections_are_counted_by_reason_and_sla_steps_by_action(runtime: Runtime, api: Any) -> None:
    services = runtime.services
    async with services.db.transaction() as session:
        lead = Lead(
            external_id="m-1",
            email="m1@example.org",
            data={},
            stage="mql",
            explanation={},
            created_at=services.clock.now(),
            updated_at=services.clock.now(),
        )
        session.add(lead)
        await session.flush()
        await events.record(session, services, lead, "bob@example.com", "lead.rejected", None, {"reason": "no_budget"})
        await events.record(session, services, lead, "baton:sla", "sla.nudged", None, {"chain": "accept"})
        await events.record(session, services, lead, "baton:sla", "lead.reassigned", None, {})
        await events.record(
            session, services, lead, "x@example.com", "lead.rejected", None, {"reason": "made-up-reason"}
        )
    samples = await scrape(api)
    assert value(samples, "baton_rejected_total", reason="no_budget") == 1
    assert value(samples, "baton_rejected_total", reason="other") == 1
    assert value(samples, "baton_sla_steps_total", action="nudge") == 1
    assert value(samples, "baton_sla_steps_total", action="reassign") == 1


async def test_events_of_a_rolled_back_transaction_are_not_counted(runtime: Runtime, api: Any) -> None:
    services = runtime.services
    try:
        async with services.db.transaction() as session:
            lead = Lead(
                external_id="m-2",
                email="m2@example.org",
                data={},
                stage="mql",
                explanation={},
                created_at=services.clock.now(),
                updated_at=services.clock.now(),
            )
            session.add(lead)
            await session.flush()
            await events.record(session, services, lead, "intake", "lead.captured")
            raise RuntimeError("abort")
    except RuntimeError:
        pass
    assert value(await scrape(api), "baton_leads_received_total") == 0


class FlakySender:
    platform = "slack"

    def __init__(self) -> None:
        self.calls = 0

    async def send(self, delivery: Delivery) -> Delivered | None:
        self.calls += 1
        if self.calls == 1:
            raise RetryLater(None, "ratelimited: slow down")
        return Delivered(channel="C1", message_id=f"{self.calls}.0")


async def test_delivery_latency_and_chat_api_errors_are_recorded(
    runtime: Runtime, api: Any, clock: ManualClock
) -> None:
    await api.post("/api/leads", json=lead_payload(), headers=auth())
    runtime.worker.senders["slack"] = FlakySender()
    await runtime.worker.run_once()  # answered 429-style: retried later
    clock.advance(timedelta(minutes=1))
    await runtime.worker.run_once()
    samples = await scrape(api)
    assert value(samples, "baton_delivery_errors_total", platform="slack", code="ratelimited") == 1
    assert value(samples, "baton_deliveries_total", platform="slack", status="sent") == 1
    assert value(samples, "baton_delivery_latency_seconds_count", platform="slack") == 1
    assert value(samples, "baton_delivery_latency_seconds_sum", platform="slack") == 60


def test_each_runtime_has_its_own_registry(runtime: Runtime) -> None:
    other = Runtime(settings=runtime.settings, agreement=runtime.agreement)
    other.metrics.on_delivery(DeliveryResult(1, "slack", "sent", latency=1.0))
    assert runtime.metrics.registry is not other.metrics.registry
    assert (
        runtime.metrics.registry.get_sample_value("baton_deliveries_total", {"platform": "slack", "status": "sent"})
        is None
    )
