"""``baton simulate``: a seeded store replayed against a draft gives known numbers, and writes nothing."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import func, select

from bot.cli import cli
from handlers.clock import ManualClock
from handlers.handoff.accept import accept
from handlers.handoff.reject import reject
from handlers.intake.leads import LeadIn, ingest
from handlers.services import Services
from handlers.simulation import period_of, simulate
from scoring.agreement import Agreement
from store.db import Database
from store.models import Base
from tests.factories import EXAMPLE_CONFIG, agreement_data, lead_payload, make_agreement
from tests.handlers.conftest import offer


def _raised(rule: str, points: int) -> Agreement:
    data = agreement_data()
    explicit = [dict(r, points=points) if r["name"] == rule else r for r in data["scoring"]["explicit"]]
    return make_agreement(scoring={**data["scoring"], "explicit": explicit})


def _threshold(points: int) -> Agreement:
    return make_agreement(qualification={**agreement_data()["qualification"], "threshold": points})


async def _seed(services: Services, clock: ManualClock) -> None:
    """Three leads at 35 points and two at 20 (threshold 50); two qualifying leads at 55 points,
    one rejected (no budget) and one accepted."""
    # 35: target industry 15, 500+ employees 10, core region 10; "Manager" is not a senior title.
    almost = [LeadIn.model_validate(lead_payload(title="Manager")) for _ in range(3)]
    # 20: not a target industry, so raising "Target industry" leaves them below.
    far = [LeadIn.model_validate(lead_payload(title="Manager", industry="retail")) for _ in range(2)]
    await ingest(services, almost + far)
    clock.advance(timedelta(minutes=5))
    rejected = await offer(services)
    accepted = await offer(services)
    clock.advance(timedelta(minutes=5))
    assert (await reject(services, rejected, "alice@example.com", "no_budget", None, source="test")).ok
    assert (await accept(services, accepted, "bob@example.com", source="test")).ok


async def _counts(services: Services) -> dict[str, int]:
    async with services.db.read() as session:
        return {
            table.name: int(await session.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }


def _period(services: Services, clock: ManualClock) -> Any:
    return period_of("this quarter", services.agreement, clock.now())


async def test_a_rule_raised_gives_exactly_the_expected_extra_mqls_and_writes_nothing(
    services: Services, clock: ManualClock
) -> None:
    await _seed(services, clock)
    before = await _counts(services)
    report = await simulate(services, _raised("Target industry", 30), _period(services, clock), chunk=2)
    assert await _counts(services) == before
    assert report.leads == 7
    assert report.totals == {"recorded": 2, "before": 2, "after": 5}
    assert (report.gained, report.lost) == (3, 0)
    (change,) = report.changes
    assert change.kind == "rule_points" and dict(change.values) == {"name": "Target industry", "old": 15, "new": 30}
    assert report.effects == [{"change": 0, "gained": 3, "lost": 0}]
    assert report.sources["webinar"] == {"before": 2, "after": 5}
    assert report.mqls["after"] == {"2026-W48": 5}
    assert report.rejected_total == {"no_budget": 1} and report.rejected_still_sent == {"no_budget": 1}
    assert (report.accepted_total, report.accepted_held_back) == (1, 0)
    enterprise = {r["rep"]: r for r in report.reps}
    assert enterprise["alice@example.com"]["before"] + enterprise["bob@example.com"]["before"] == 2
    assert enterprise["alice@example.com"]["after"] + enterprise["bob@example.com"]["after"] == 5


async def test_a_higher_threshold_holds_back_accepted_leads_and_stops_rejected_ones(
    services: Services, clock: ManualClock
) -> None:
    await _seed(services, clock)
    report = await simulate(services, _threshold(60), _period(services, clock))
    assert report.totals["after"] == 0 and (report.gained, report.lost) == (0, 2)
    assert report.rejected_still_sent == {} and report.rejected_total == {"no_budget": 1}
    assert (report.accepted_total, report.accepted_held_back) == (1, 1)
    assert report.effects == [{"change": 0, "gained": 0, "lost": 2}]


async def test_the_same_agreement_changes_nothing(services: Services, clock: ManualClock) -> None:
    await _seed(services, clock)
    report = await simulate(services, services.agreement, _period(services, clock))
    assert report.changes == [] and report.totals == {"recorded": 2, "before": 2, "after": 2}


async def test_a_period_with_no_leads_replays_nothing(services: Services, clock: ManualClock) -> None:
    await _seed(services, clock)
    report = await simulate(services, services.agreement, period_of("last quarter", services.agreement, clock.now()))
    assert report.leads == 0


def _draft(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "draft.toml"
    path.write_text(text)
    return path


def test_a_draft_that_does_not_validate_is_reported_by_path(tmp_path: Path, database_url: str) -> None:
    text = EXAMPLE_CONFIG.read_text().replace("threshold = 50", 'threshold = "fifty"', 1)
    result = CliRunner().invoke(
        cli,
        ["simulate", "--config", str(_draft(tmp_path, text)), "--running", str(EXAMPLE_CONFIG)],
        env={"BATON_DATABASE_URL": database_url, "BATON_INTAKE_TOKEN": "x" * 32},
    )
    assert result.exit_code == 2
    assert "qualification.threshold" in result.output


def test_the_command_prints_a_table_json_and_a_chart(db: Database, tmp_path: Path, database_url: str) -> None:
    async def seed() -> None:
        # The command reads the real clock: seed the leads in the current quarter.
        from handlers.intake.routing_state import ensure_reps

        clock = ManualClock(datetime.now(UTC))
        database = Database(database_url)
        services = Services(db=database, agreement=make_agreement(), clock=clock)
        async with database.transaction() as session:
            await ensure_reps(session, services)
        await _seed(services, clock)
        await database.dispose()

    asyncio.run(seed())
    text = EXAMPLE_CONFIG.read_text().replace("points = 15", "points = 30", 1)  # "Target industry"
    draft = _draft(tmp_path, text)
    env = {"BATON_DATABASE_URL": database_url, "BATON_INTAKE_TOKEN": "x" * 32}
    base = ["simulate", "--config", str(draft), "--running", str(EXAMPLE_CONFIG), "--period", "this quarter"]
    chart = tmp_path / "out.png"
    table = CliRunner().invoke(cli, [*base, "--chart", str(chart)], env=env)
    assert table.exit_code == 0, table.output
    assert 'Scoring rule "Target industry": +15 → +30 points. [3 gained, 0 lost where it applies]' in table.output
    assert chart.read_bytes().startswith(b"\x89PNG")
    as_json = CliRunner().invoke(cli, [*base, "--json"], env=env)
    assert json.loads(as_json.output)["totals"] == {"recorded": 2, "before": 2, "after": 5}
    empty = CliRunner().invoke(cli, [*base[:-1], "last quarter"], env=env)  # the leads are from today
    assert empty.exit_code == 1 and "nothing to replay" in empty.output
    bad = CliRunner().invoke(cli, [*base[:-1], "next year"], env=env)
    assert bad.exit_code == 2 and "next year" in bad.output
