"""Run Alembic migrations on an async engine (``baton db upgrade``, and at ``baton serve``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from store.db import READ_ONLY

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def current_revision(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        # Deferred on SQLite (store.db's "begin" hook): /readyz asks this and must not queue behind writers.
        await connection.execution_options(**{READ_ONLY: True})
        return await connection.run_sync(read)


def known_revisions() -> tuple[frozenset[str], frozenset[str]]:
    """(every revision this release ships, its heads), read from the migration scripts."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config())
    return frozenset(s.revision for s in scripts.walk_revisions()), frozenset(scripts.get_heads())


async def schema_status(engine: AsyncEngine, known: frozenset[str], heads: frozenset[str]) -> str:
    """ "ok" when the database is at this release's head, or at a revision this release does not
    know (a newer release migrated it: expand/contract keeps the old code working); otherwise
    what is missing."""
    current = await current_revision(engine)
    if current is None:
        return "failing: the database has no schema (run `baton db upgrade`)"
    if current in heads or current not in known:
        return "ok"
    return (
        f"failing: the schema is at revision {current}, this release needs {', '.join(sorted(heads))} "
        "(run `baton db upgrade`)"
    )
