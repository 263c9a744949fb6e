"""``baton db upgrade``: apply the Alembic migrations."""

from __future__ import annotations

import asyncio

import click

from bot.settings import ConfigError, load_settings
from handlers.text import _


@click.group()
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def upgrade_cmd(revision: str) -> None:
    """Migrate the database (BATON_DATABASE_URL, default SQLite baton.db) to REVISION."""
    # SQLAlchemy and Alembic are imported only when a migration runs (not for --help).
    from store.db import Database
    from store.migrate import current_revision, upgrade

    try:
        settings = load_settings()
    except ConfigError as exc:
        raise click.ClickException("; ".join(exc.problems)) from None

    async def run() -> str | None:
        database = Database(settings.database_url)
        try:
            await upgrade(database.engine, revision)
            return await current_revision(database.engine)
        finally:
            await database.dispose()

    click.echo(_("cli.db.revision", revision=asyncio.run(run())))
