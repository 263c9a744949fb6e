"""A permanent error parks the row at once, with its code, and tells the admins once an hour."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from click.testing import CliRunner

from bot.cli import cli
from bot.metrics import Metrics
from handlers.clock import ManualClock
from handlers.messaging.delivery import DeliveryWorker
from handlers.messaging.ports import Delivery, PermanentFailure
from handlers.services import Services
from tests.delivery.conftest import ScriptedSender, enqueue, outbox_rows
from tests.factories import make_agreement


def refuse_c1(delivery: Delivery) -> Exception | None:
    if delivery.payload.get("channel") == "C1":
        return PermanentFailure("Slack refused the message: channel_not_found", code="channel_not_found")
    return None


async def test_a_permanent_error_parks_at_once_and_alerts_once_for_many_messages(
    services: Services, clock: ManualClock
) -> None:
    sender = ScriptedSender(clock, refuse_c1)
    for n in range(6):
        await enqueue(services, f"card {n}", channel="C1")
    worker = DeliveryWorker(services, {"slack": sender})
    while await worker.run_once():
        pass
    rows = await outbox_rows(services)
    parked = [r for r in rows if r.payload.get("channel") == "C1"]
    alerts = [r for r in rows if r.payload.get("channel") != "C1"]
    assert [(r.status, r.attempts, r.error_code) for r in parked] == [("failed", 1, "channel_not_found")] * 6
    (alert,) = alerts
    assert alert.status == "sent" and alert.payload["channel"] == "C0SALESMGRS"
    fields = {f["label"]: f["value"] for f in alert.payload["view"]["fields"]}
    assert fields["Code"] == "channel_not_found" and fields["Target"] == "C1"


async def test_the_same_failure_an_hour_later_alerts_again(services: Services, clock: ManualClock) -> None:
    sender = ScriptedSender(clock, refuse_c1)
    worker = DeliveryWorker(services, {"slack": sender})
    await enqueue(services, "first", channel="C1")
    await worker.run_once()
    clock.advance(timedelta(hours=1))
    await enqueue(services, "second", channel="C1")
    while await worker.run_once():
        pass
    assert len([t for t in sender.titles() if "refused a message" in t]) == 2


async def test_alerts_go_to_the_ops_channel_when_one_is_configured(services: Services, clock: ManualClock) -> None:
    services.agreement = make_agreement(channels={"managers": {"slack": "C0SALESMGRS"}, "ops": {"slack": "C0OPS"}})
    sender = ScriptedSender(clock, refuse_c1)
    await enqueue(services, "card", channel="C1")
    worker = DeliveryWorker(services, {"slack": sender})
    while await worker.run_once():
        pass
    assert [c.channel for c in sender.calls] == ["C1", "C0OPS"]


async def test_an_alert_that_cannot_be_delivered_raises_no_alert(services: Services, clock: ManualClock) -> None:
    sender = ScriptedSender(clock, lambda d: PermanentFailure("nope", code="invalid_auth"))
    await enqueue(services, "card", channel="C1")
    worker = DeliveryWorker(services, {"slack": sender})
    for _ in range(5):
        await worker.run_once()
    rows = await outbox_rows(services)
    assert len(rows) == 2 and {r.status for r in rows} == {"failed"}  # the card and its alert, no more


async def test_a_parked_row_counts_in_the_metrics_by_code(services: Services, clock: ManualClock) -> None:
    metrics = Metrics()
    sender = ScriptedSender(clock, refuse_c1)
    for n in range(3):
        await enqueue(services, f"card {n}", channel="C1")
    await DeliveryWorker(services, {"slack": sender}, on_result=metrics.on_delivery).run_once()
    value = metrics.registry.get_sample_value(
        "baton_outbox_parked_total", {"platform": "slack", "code": "channel_not_found"}
    )
    assert value == 3


async def test_outbox_list_shows_the_code_of_a_parked_row(
    services: Services, clock: ManualClock, database_url: str
) -> None:
    await enqueue(services, "card", channel="C1")
    refused = ScriptedSender(clock, lambda d: PermanentFailure("Slack refused the message", code="is_archived"))
    await DeliveryWorker(services, {"slack": refused}).run_once()
    result = await asyncio.to_thread(
        CliRunner().invoke, cli, ["outbox", "list", "--status", "failed"], env={"BATON_DATABASE_URL": database_url}
    )
    assert result.exit_code == 0, result.output
    header, line = result.output.splitlines()[:2]
    assert "code" in header.split() and "is_archived" in line.split()
