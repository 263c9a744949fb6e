"""``baton digest --dry-run`` prints every digest and where its chart was written, and sends nothing."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from bot.cli import cli
from handlers.digest.chart import PNG_SIGNATURE
from store.db import Database
from store.models import OutboxMessage
from tests.factories import EXAMPLE_CONFIG


@pytest.fixture
def run_cli(database_url: str, db: Database) -> CliRunner:
    return CliRunner(env={"BATON_DATABASE_URL": database_url})


async def count_outbox(db: Database) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


def test_dry_run_prints_digests_and_chart_paths(run_cli: CliRunner) -> None:
    result = run_cli.invoke(cli, ["digest", "--dry-run", "--config", str(EXAMPLE_CONFIG)])
    assert result.exit_code == 0, result.output
    assert "=== manager:morgan.manager@example.com (DM to morgan.manager@example.com)" in result.output
    assert "=== marketing (channel slack:C0MKTGFEEDBK)" in result.output
    assert "Weekly marketing digest" in result.output
    charts = re.findall(r"\[chart: (.+\.png)\]", result.output)
    assert len(charts) == 3
    assert all(Path(c).read_bytes().startswith(PNG_SIGNATURE) for c in charts)
    assert result.output.rstrip().endswith("3 digests would be sent")


async def test_dry_run_enqueues_nothing(run_cli: CliRunner, db: Database) -> None:
    # The command runs its own event loop, so it gets a thread of its own here.
    result = await asyncio.to_thread(run_cli.invoke, cli, ["digest", "--dry-run", "--config", str(EXAMPLE_CONFIG)])
    assert result.exit_code == 0, result.output
    assert await count_outbox(db) == 0
