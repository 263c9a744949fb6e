"""Nothing lost at the front door (issue 15): a refused lead is kept as an intake failure, listed,
replayed after the mapping is fixed, alerted once per burst and purged by retention."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import cli
from bot.jobs.retention import run_retention
from bot.runtime import Runtime
from handlers.clock import ManualClock
from handlers.intake import failures
from handlers.intake.source_records import check_record
from handlers.privacy.erasure import forget
from handlers.services import Services
from store.db import Database
from store.models import Lead, OutboxMessage
from tests.api.intake_helpers import JSON, count
from tests.api.source_helpers import JSON_TOKEN, SOURCES, hubspot_contact, hubspot_headers, kept_failures
from tests.conftest import START as START_CLI
from tests.factories import EXAMPLE_CONFIG, make_agreement


async def post_hubspot(api: Any, clock: ManualClock, body: Any) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode()
    url = str(api.make_url("/api/sources/hubspot"))
    headers = hubspot_headers(url, data, int(clock.now().timestamp() * 1000))
    response = await api.post("/api/sources/hubspot", data=data, headers=headers)
    return response.status, await response.json()


def work_email_contact(n: int) -> dict[str, Any]:
    """A contact whose portal keeps the address in a custom property the preset does not read."""
    contact = hubspot_contact(email="")
    contact["vid"] = 5000 + n
    contact["properties"]["work_email"] = {"value": f"buyer{n}@prospect-co.example", "versions": []}
    return contact


def fixed(runtime: Runtime) -> Services:
    """The services after the admin mapped HubSpot's work_email property to the lead's email."""
    sources = [
        {**s, "fields": {"email": "properties.work_email.value"}} if s["name"] == "hubspot" else s for s in SOURCES
    ]
    return Services(db=runtime.db, agreement=make_agreement(sources=sources), clock=runtime.services.clock)


async def alerts(db: Database) -> list[OutboxMessage]:
    async with db.transaction() as session:
        rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key.like("%intake:%")))
        return list(rows.all())


async def test_a_refused_lead_is_kept_listed_and_replayed_after_the_mapping_is_fixed(
    api: Any, db: Database, clock: ManualClock, runtime: Runtime
) -> None:
    status, answer = await post_hubspot(api, clock, work_email_contact(1))
    assert status == 422 and answer["failures"]
    (failure,) = await kept_failures(db)
    assert failure.external_id == "5001" and failure.record["properties"]["work_email"]["value"]
    listed = await failures.failures(runtime.services)
    assert [f.id for f in listed] == [failure.id]

    # Replayed through the mapping as it is: still refused, still open.
    (again,) = await failures.replay(runtime.services, every=True)
    assert again.status == "refused" and again.problems[0]["field"] == "email"
    assert await count(db, Lead) == 0

    (done,) = await failures.replay(fixed(runtime), source="hubspot")
    assert done.status == "stored" and done.external_id == "5001"
    async with db.transaction() as session:
        lead = (await session.scalars(select(Lead))).one()
    assert lead.data["email"] == "buyer1@prospect-co.example" and lead.stage == "mql"
    (resolved,) = await kept_failures(db)
    assert resolved.resolved_at is not None and resolved.lead_id == lead.id
    assert await failures.failures(runtime.services) == []

    # Idempotent: replaying again changes nothing; the same lead sent again is updated, not duplicated.
    (twice,) = await failures.replay(fixed(runtime), ids=[failure.id])
    assert twice.status == "resolved before" and await count(db, Lead) == 1


async def test_the_same_refused_record_sent_again_is_one_failure_seen_twice(
    api: Any, db: Database, clock: ManualClock
) -> None:
    body = work_email_contact(2)
    await post_hubspot(api, clock, body)
    clock.advance(timedelta(seconds=1))  # a new signature: HubSpot's own retry would carry one
    await post_hubspot(api, clock, body)
    (failure,) = await kept_failures(db)
    assert failure.seen == 2


async def test_a_per_lead_source_takes_the_good_leads_and_keeps_the_bad_one(api: Any, db: Database) -> None:
    headers = {"Authorization": f"Bearer {JSON_TOKEN}", **JSON}
    good = {"submission": {"id": 9101, "contact": {"email": "ok@prospect-a.example"}, "company": {"size": 800}}}
    bad = {"submission": {"id": 9102, "contact": {"email": "not an address"}}}
    response = await api.post("/api/sources/forms-each", json=[good, bad], headers=headers)
    answer = await response.json()
    assert response.status == 202, answer
    first, second = answer["results"]
    assert first["external_id"] == "9101" and first["status"] == "created"
    assert second["status"] == "refused" and second["problems"][0]["field"] == "email"
    (failure,) = await kept_failures(db)
    assert second["failure_id"] == failure.id and failure.external_id == "9102"
    assert await count(db, Lead) == 1


async def test_a_burst_of_refused_leads_makes_one_alert_an_hour(api: Any, db: Database, clock: ManualClock) -> None:
    for n in range(5):
        status, _ = await post_hubspot(api, clock, work_email_contact(10 + n))
        assert status == 422
    assert len(await kept_failures(db)) == 5
    (alert,) = await alerts(db)
    assert alert.payload["channel"] == "C0SALESMGRS"
    assert alert.payload["view"]["title"] == "Leads from hubspot were refused"
    assert "baton intake replay --source hubspot" in " ".join(alert.payload["view"]["lines"])
    clock.advance(timedelta(hours=1))
    await post_hubspot(api, clock, work_email_contact(20))
    assert len(await alerts(db)) == 2


async def test_a_bad_signature_keeps_nothing(api: Any, db: Database, clock: ManualClock) -> None:
    data = json.dumps(work_email_contact(30)).encode()
    url = str(api.make_url("/api/sources/hubspot"))
    headers = hubspot_headers(url, data, int(clock.now().timestamp() * 1000), secret="not the secret")
    response = await api.post("/api/sources/hubspot", data=data, headers=headers)
    assert response.status == 401
    assert await kept_failures(db) == [] and await alerts(db) == []


async def test_retention_drops_the_payload_after_intake_failures_for(
    api: Any, db: Database, clock: ManualClock, runtime: Runtime
) -> None:
    await post_hubspot(api, clock, work_email_contact(40))
    clock.advance(timedelta(days=29))
    await post_hubspot(api, clock, work_email_contact(41))
    clock.advance(timedelta(days=1, minutes=1))
    await run_retention(runtime.services)
    old, young = await kept_failures(db)
    assert old.record is None and old.email is None and old.purged_at is not None
    assert old.problems and old.external_id == "5040"  # what was wrong stays; who it was goes
    assert young.record is not None and young.purged_at is None
    (replayed,) = await failures.replay(fixed(runtime), ids=[old.id])
    assert replayed.status == "purged"


async def test_a_shorter_contact_details_after_purges_failures_sooner(
    api: Any, db: Database, clock: ManualClock, runtime: Runtime
) -> None:
    await post_hubspot(api, clock, work_email_contact(50))
    services = Services(
        db=runtime.db,
        agreement=make_agreement(sources=SOURCES, retention={"contact_details_after": "7d"}),
        clock=clock,
    )
    clock.advance(timedelta(days=7, minutes=1))
    assert await failures.purge_expired(services) == 1


async def test_forgetting_a_person_drops_their_intake_failures(
    api: Any, db: Database, clock: ManualClock, runtime: Runtime
) -> None:
    body = hubspot_contact(numemployees="lots")
    await post_hubspot(api, clock, body)
    outcome = await forget(runtime.services, "codey.huang@hubspot-prospect.example", "test")
    assert outcome.ok, outcome.message
    (failure,) = await kept_failures(db)
    assert failure.record is None and failure.email is None


def test_the_cli_lists_and_replays_failures(database_url: str, tmp_path: Any, db: Database) -> None:
    import asyncio

    config = tmp_path / "baton.toml"
    config.write_text(
        EXAMPLE_CONFIG.read_text()
        + '\n[[sources]]\nname = "forms"\nauth = { kind = "bearer", secret_env = "BATON_SOURCE_FORMS_TOKEN" }\n'
        + '[sources.fields]\nexternal_id = "id"\nemail = "contact.email"\n'
    )
    agreement = make_agreement(
        sources=[
            {
                "name": "forms",
                "auth": {"kind": "bearer", "secret_env": "BATON_SOURCE_FORMS_TOKEN"},
                "fields": {"external_id": "id", "email": "email"},
            }
        ]
    )
    source = agreement.source("forms")
    assert source is not None

    async def keep_one() -> None:
        database = Database(database_url)  # this test's own loop: the CLI runs its own too
        try:
            services = Services(db=database, agreement=agreement, clock=ManualClock(START_CLI))
            record = {"id": "cli-1", "contact": {"email": "cli@prospect-cli.example"}}
            await failures.keep(services, source, [check_record(agreement, START_CLI, source, record)])
        finally:
            await database.dispose()

    asyncio.run(keep_one())
    env = {"BATON_DATABASE_URL": database_url}
    runner = CliRunner()
    listed = runner.invoke(cli, ["intake", "failures", "--config", str(config)], env=env)
    assert listed.exit_code == 0, listed.output
    assert "forms" in listed.output and "email: required" in listed.output
    usage = runner.invoke(cli, ["intake", "replay", "--config", str(config)], env=env)
    assert usage.exit_code == 2 and "--source NAME or --all" in usage.output
    replayed = runner.invoke(cli, ["intake", "replay", "--all", "--config", str(config)], env=env)
    assert replayed.exit_code == 0, replayed.output
    assert "stored as lead cli-1" in replayed.output and "1 stored, 0 still refused" in replayed.output
    assert (
        "no open intake failures" in runner.invoke(cli, ["intake", "failures", "--config", str(config)], env=env).output
    )


async def test_forgetting_finds_the_email_anywhere_in_a_kept_payload(
    api: Any, db: Database, clock: ManualClock, runtime: Runtime
) -> None:
    await post_hubspot(api, clock, work_email_contact(60))  # refused: the address is in work_email
    await post_hubspot(api, clock, work_email_contact(61))
    outcome = await forget(runtime.services, "Buyer60@prospect-co.example", "test")
    assert outcome.ok, outcome.message
    gone, kept = await kept_failures(db)
    assert gone.record is None and kept.record is not None  # buyer61's stays
