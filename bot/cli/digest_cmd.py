"""``baton digest [--dry-run]``: build last week's digests; print them, or enqueue them for sending."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.cli.common import config_option, load
from handlers.text import _, n_

if TYPE_CHECKING:
    from handlers.digest.weekly import DigestMessage


def _address(message: DigestMessage) -> str:
    if message.to_person:
        return _("cli.digest.dm_to", who=message.to_person)
    channel = message.to_channel
    return _("cli.digest.channel", ids=", ".join(f"{p}:{c}" for p, c in (channel.items() if channel else [])))


@click.command("digest")
@click.option("--dry-run", is_flag=True, help="Print what would be sent and write the charts; send nothing.")
@config_option
def digest(dry_run: bool, config_path: str | None) -> None:
    """Last week's digest for each manager and for marketing (normally sent on the configured schedule)."""
    # The digest draws its charts with matplotlib: imported only when a digest is built.
    from sqlalchemy.exc import DBAPIError

    from handlers.clock import SystemClock
    from handlers.digest.weekly import run_weekly_digest
    from handlers.services import Services
    from store.db import Database

    settings, agreement = load(config_path)

    async def run() -> list[DigestMessage]:
        database = Database(settings.database_url)
        try:
            services = Services(db=database, agreement=agreement, clock=SystemClock())
            return await run_weekly_digest(services, dry_run=dry_run)
        finally:
            await database.dispose()

    try:
        messages = asyncio.run(run())
    except DBAPIError as exc:
        raise click.ClickException(
            f"cannot read the database ({type(exc.orig).__name__}); is it migrated? Run `baton db upgrade`."
        ) from None
    if not messages:
        click.echo(_("cli.digest.nothing"))
        return
    folder = Path(tempfile.mkdtemp(prefix="baton-digest-"))
    for message in messages:
        chart = folder / f"{message.period}-{message.audience.replace(':', '-').replace('@', '_at_')}.png"
        chart.write_bytes(message.image)
        click.echo(f"=== {message.audience} ({_address(message)})")
        click.echo(message.notice.plain_text())
        click.echo(f"[chart: {chart}]")
        click.echo("")
    if dry_run:
        click.echo(n_("cli.digest.would_send", len(messages)))
    else:
        click.echo(n_("cli.digest.enqueued", len(messages)))
