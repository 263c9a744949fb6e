"""Erasure and retention: after forget or purge, no table holds the person's contact details."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import cli
from bot.jobs.retention import run_retention
from handlers.clock import ManualClock
from handlers.handoff.reject import reject
from handlers.intake.leads import LeadIn, ingest
from handlers.messaging.delivery import DeliveryWorker
from handlers.messaging.ports import Delivered, Delivery
from handlers.privacy.erasure import email_digest, forget, purge_expired
from handlers.services import Services
from handlers.views.actions import ButtonData
from store.db import Database
from store.models import AuditEvent, Handoff, Lead, OutboxMessage
from tests.factories import EXAMPLE_CONFIG, lead_payload, make_agreement
from tests.production.conftest import table_text

EMAIL = "Zelda.Q@acme-widgets.example"
PERSON = {
    "email": EMAIL,
    "first_name": "Zelda",
    "last_name": "Quintanilla",
    "phone": "+1 415 555 0199",
    "title": "VP Revenue Operations",
    "website": "https://zelda-quintanilla.example",
}
TRACES = ("zelda", "quintanilla", "acme-widgets", "555 0199", "5550199", "vp revenue operations")


class Chat:
    """Stands in for Slack: every post lands, so cards count as already sent."""

    platform = "slack"

    async def send(self, delivery: Delivery) -> Delivered | None:
        return Delivered(channel="D0ALICE", message_id=f"{delivery.id}.0")


def privacy_services(db: Database, clock: ManualClock, retention: str | None = None) -> Services:
    agreement = make_agreement(
        webhooks=[{"url": "https://crm.example/hook", "events": ["lead.qualified", "lead.offered", "lead.rejected"]}],
        retention={"contact_details_after": retention} if retention else {},
    )
    return Services(db=db, agreement=agreement, clock=clock)


async def rejected_lead(services: Services, **fields: Any) -> int:
    """A lead offered to Alice, its card delivered, then rejected with a note that names the person."""
    (outcome,) = await ingest(services, [LeadIn.model_validate(lead_payload(**fields))])
    await DeliveryWorker(services, {"slack": Chat()}).run_once()
    async with services.db.transaction() as session:
        handoff = (await session.scalars(select(Handoff).where(Handoff.lead_id == outcome.lead_id))).one()
    name = f"{fields.get('first_name', 'Pat')} {fields.get('last_name', '')}".strip()
    result = await reject(
        services,
        ButtonData(lead_id=outcome.lead_id, handoff_id=handoff.id),
        "alice@example.com",
        "no_fit",
        f"Spoke to {name} on {fields.get('phone', '-')}: too small",
        source="slack",
    )
    assert result.ok, result
    return outcome.lead_id


def traces_in(tables: dict[str, str], traces: tuple[str, ...] = TRACES) -> dict[str, list[str]]:
    return {name: [t for t in traces if t in text] for name, text in tables.items() if any(t in text for t in traces)}


async def test_forget_leaves_no_contact_detail_in_any_table(db: Database, clock: ManualClock) -> None:
    services = privacy_services(db, clock)
    await rejected_lead(services, **PERSON)
    assert traces_in(await table_text(db))  # the person is everywhere before
    outcome = await forget(services, EMAIL.upper(), "revops@example.com")
    assert outcome.ok, outcome
    assert traces_in(await table_text(db)) == {}


async def test_forget_keeps_the_anonymous_facts_and_audits_a_hash_not_the_email(
    db: Database, clock: ManualClock
) -> None:
    services = privacy_services(db, clock)
    lead_id = await rejected_lead(services, **PERSON)
    await forget(services, EMAIL, "revops@example.com")
    async with db.transaction() as session:
        lead = await session.get(Lead, lead_id)
        audit = (await session.scalars(select(AuditEvent).where(AuditEvent.action == "lead.forgotten"))).one()
    assert lead is not None and lead.email is None and lead.forgotten_at == clock.now()
    assert (lead.stage, lead.team, lead.source, lead.score > 0) == ("disqualified", "enterprise", "webinar", True)
    assert lead.data["company"] and lead.data["employees"] == 800 and "first_name" not in lead.data
    assert audit.actor == "revops@example.com" and audit.lead_id == lead_id
    assert audit.after == {
        "reason": "request",
        "email_sha256": email_digest(EMAIL),
        "fields": ["email", "first_name", "last_name", "phone", "title", "website"],
    }


async def test_forget_re_renders_cards_already_posted_in_chat(db: Database, clock: ManualClock) -> None:
    services = privacy_services(db, clock)
    lead_id = await rejected_lead(services, **PERSON)
    await forget(services, EMAIL, "revops@example.com")
    async with db.transaction() as session:
        updates = (
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.kind == "update", OutboxMessage.message_key.startswith(f"lead:{lead_id}:"))
                .order_by(OutboxMessage.id.desc())
            )
        ).all()
    assert updates and updates[0].payload["view"]["name"] == "(forgotten)"
    assert updates[0].payload["view"]["email"] == ""


async def test_forget_touches_no_other_lead(db: Database, clock: ManualClock) -> None:
    services = privacy_services(db, clock)
    await rejected_lead(services, **PERSON)
    other = await rejected_lead(services, first_name="Zelda", last_name="Other", title="VP Revenue Operations")
    await forget(services, EMAIL, "revops@example.com")
    async with db.transaction() as session:
        kept = await session.get(Lead, other)
    assert kept is not None and kept.email is not None and kept.data["first_name"] == "Zelda"
    assert kept.data["title"] == "VP Revenue Operations"


async def test_forgetting_an_unknown_email_says_so_and_changes_nothing(db: Database, clock: ManualClock) -> None:
    services = privacy_services(db, clock)
    await rejected_lead(services, **PERSON)
    before = await table_text(db)
    outcome = await forget(services, "nobody@nowhere.example", "revops@example.com")
    assert (outcome.ok, outcome.code) == (False, "not_found")
    assert "nobody@nowhere.example" in outcome.message
    assert await table_text(db) == before


async def test_purge_erases_leads_finished_longer_ago_than_the_retention_period(
    db: Database, clock: ManualClock
) -> None:
    services = privacy_services(db, clock, retention="30d")
    old = await rejected_lead(services, **PERSON)
    clock.advance(timedelta(days=20))
    recent = await rejected_lead(services, first_name="Ruth", last_name="Recentson")
    (open_outcome,) = await ingest(services, [LeadIn.model_validate(lead_payload(last_name="Stillopen"))])
    clock.advance(timedelta(days=11))
    assert await purge_expired(services) == 1
    tables = await table_text(db)
    assert traces_in(tables) == {}
    assert "recentson" in tables["leads"] and "stillopen" in tables["leads"]
    async with db.transaction() as session:
        forgotten = {lead.id for lead in (await session.scalars(select(Lead))).all() if lead.forgotten_at}
    assert forgotten == {old} and recent not in forgotten and open_outcome.lead_id not in forgotten
    assert await purge_expired(services) == 0  # already done: a re-run changes nothing


async def test_the_retention_job_purges_once_per_day_however_many_replicas_run_it(
    db: Database, clock: ManualClock
) -> None:
    services = privacy_services(db, clock, retention="1d")
    await rejected_lead(services, **PERSON)
    clock.advance(timedelta(days=2))
    assert await run_retention(services) == 1
    assert await run_retention(services) is None  # same day: claimed already
    clock.advance(timedelta(days=1))
    assert await run_retention(services) == 0


async def test_baton_lead_forget_prints_the_outcome_and_fails_for_an_unknown_email(
    db: Database, clock: ManualClock, database_url: str
) -> None:
    services = privacy_services(db, clock)
    await rejected_lead(services, **PERSON)
    env = {"BATON_DATABASE_URL": database_url, "BATON_CONFIG": str(EXAMPLE_CONFIG)}
    runner = CliRunner()
    done = await asyncio.to_thread(runner.invoke, cli, ["lead", "forget", EMAIL, "--by", "ticket-42"], env=env)
    again = await asyncio.to_thread(runner.invoke, cli, ["lead", "forget", EMAIL], env=env)
    assert done.exit_code == 0 and done.output.startswith("Forgot lead crm-")
    assert again.exit_code == 1 and "no lead has the email zelda.q@acme-widgets.example" in again.output
