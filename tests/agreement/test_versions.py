"""Agreement versions: every start records a new content with its change; last_changed comes from the record."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import cli
from bot.runtime import Runtime
from handlers.agreement.versions import content_hash
from handlers.clock import ManualClock
from handlers.queries.definitions import version_line
from store.db import Database
from store.models import AgreementVersion
from tests.conftest import make_settings
from tests.factories import EXAMPLE_CONFIG, agreement_data, make_agreement


async def _versions(db: Database) -> list[AgreementVersion]:
    async with db.read() as session:
        return list((await session.scalars(select(AgreementVersion).order_by(AgreementVersion.id))).all())


async def _start(database_url: str, clock: ManualClock, **overrides: object) -> Runtime:
    runtime = Runtime(settings=make_settings(database_url), agreement=make_agreement(**overrides), clock=clock)
    await runtime.prepare()
    await runtime.db.dispose()
    return runtime


async def test_a_start_records_the_version_once_and_a_change_with_its_words(
    db: Database, database_url: str, clock: ManualClock
) -> None:
    first = await _start(database_url, clock)
    (row,) = await _versions(db)
    assert row.content_hash == content_hash(make_agreement()) and row.version == "2026.4"
    # The first record keeps the file's last_changed, so upgrading does not restart the review clock.
    assert row.changed_on == date(2026, 10, 1) and first.agreement.definition.last_changed == date(2026, 10, 1)
    assert row.changes == [] and row.recorded_by.startswith("serve ")

    clock.advance(timedelta(days=1))
    await _start(database_url, clock)  # a restart with the same content is not a change
    assert len(await _versions(db)) == 1

    clock.advance(timedelta(days=1))
    data = agreement_data()
    data["qualification"]["threshold"] = 60
    data["definition"]["version"] = "2026.5"
    changed = await _start(database_url, clock, qualification=data["qualification"], definition=data["definition"])
    rows = await _versions(db)
    assert [r.version for r in rows] == ["2026.4", "2026.5"]
    assert [c["text"] for c in rows[1].changes] == ["Version: 2026.4 → 2026.5.", "MQL threshold: 50 → 60 points."]
    assert rows[1].changes[1] == {"kind": "threshold", "old": 50, "new": 60, "text": "MQL threshold: 50 → 60 points."}
    # last_changed comes from the record (the file still says 2026-10-01), and so does `define`.
    assert rows[1].changed_on == date(2026, 11, 25)
    assert changed.agreement.definition.last_changed == date(2026, 11, 25)
    assert changed.services.agreement.definition.last_changed == date(2026, 11, 25)
    assert "last changed 25 Nov 2026" in version_line(changed.services.agreement)


def test_config_check_record_records_and_then_says_unchanged(db: Database, database_url: str, tmp_path: Path) -> None:
    env = {"BATON_DATABASE_URL": database_url, "BATON_INTAKE_TOKEN": "x" * 32}

    async def migrate() -> None:
        from store.migrate import upgrade

        database = Database(database_url)
        await upgrade(database.engine)
        await database.dispose()

    asyncio.run(migrate())
    args = ["config", "check", "--config", str(EXAMPLE_CONFIG), "--record"]
    first = CliRunner().invoke(cli, args, env=env)
    assert first.exit_code == 0, first.output
    assert "Recorded version 2026.4" in first.output and "the first on record" in first.output
    assert "warning: ⚠ Nobody has signed off v2026.4, the running version." in first.output
    again = CliRunner().invoke(cli, args, env=env)
    assert "is already recorded; unchanged since 1 Oct 2026" in again.output
    draft = tmp_path / "draft.toml"
    draft.write_text(EXAMPLE_CONFIG.read_text().replace("capacity = 20", "capacity = 12", 1))
    changed = CliRunner().invoke(cli, ["config", "check", "--config", str(draft), "--record"], env=env)
    assert "Changes from the previous record:" in changed.output
    assert "  Rep Bob Example: capacity 20 → 12 open leads." in changed.output
