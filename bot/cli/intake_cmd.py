"""``baton intake failures`` and ``baton intake replay``: leads a source sent that were refused, kept, and run again."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING

import click

from bot.cli.common import config_option, load
from handlers.text import _, n_

if TYPE_CHECKING:
    from bot.settings import Settings
    from handlers.intake.failures import Replayed
    from scoring.agreement import Agreement
    from store.models import IntakeFailure


@click.group()
def intake() -> None:
    """Leads a source sent that could not be taken: list them, and run them again after a fix."""


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S") if at else "-"


@intake.command("failures")
@config_option
@click.option("--source", default=None, help="Only failures from this source.")
@click.option("--all", "every", is_flag=True, help="Resolved failures too (default: open ones only).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--width", type=click.IntRange(20, 2000), default=100, show_default=True, help="Cut the problems.")
def list_failures(config_path: str | None, source: str | None, every: bool, limit: int, width: int) -> None:
    """Newest first: the source, the lead's external id, how often it was sent, and its problems."""
    settings, agreement = load(config_path)
    rows = asyncio.run(_list(settings, agreement, source, every, limit))
    if not rows:
        click.echo(_("cli.intake.none"))
        return
    columns = _("cli.intake.columns").split("|")
    table = [
        [
            str(r.id),
            r.source,
            r.external_id or "-",
            str(r.seen),
            _when(r.created_at),
            _("cli.intake.resolved")
            if r.resolved_at
            else (_("cli.intake.purged") if r.purged_at else _("cli.intake.open")),
            "; ".join(f"{p['field']}: {p['message']}" for p in r.problems).replace("\n", " ")[:width],
        ]
        for r in rows
    ]
    widths = [max(len(c), *(len(line[i]) for line in table)) for i, c in enumerate(columns)]
    click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for line in table:
        click.echo("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())


async def _list(
    settings: Settings, agreement: Agreement, source: str | None, every: bool, limit: int
) -> list[IntakeFailure]:
    from handlers.clock import SystemClock
    from handlers.intake.failures import failures
    from handlers.services import Services
    from store.db import Database

    database = Database(settings.database_url)
    try:
        services = Services(db=database, agreement=agreement, clock=SystemClock())
        return await failures(services, source=source, resolved=every, limit=limit)
    finally:
        await database.dispose()


@intake.command("replay")
@config_option
@click.argument("ids", nargs=-1, type=click.IntRange(1))
@click.option("--source", default=None, help="Every open failure from this source.")
@click.option("--all", "every", is_flag=True, help="Every open failure.")
def replay(config_path: str | None, ids: tuple[int, ...], source: str | None, every: bool) -> None:
    """Check failures again through the source's current mapping (after fixing it); those that map
    are taken as leads (a lead already taken is updated, never duplicated) and marked resolved.

    Exits 1 if any is still refused."""
    if sum((bool(ids), source is not None, every)) != 1:
        raise click.UsageError(_("cli.intake.replay_usage"))
    settings, agreement = load(config_path)
    if source is not None and agreement.source(source) is None:
        raise click.UsageError(_("cli.intake.unknown_source", source=source))
    results = asyncio.run(_replay(settings, agreement, ids, source, every))
    for result in results:
        click.echo(_line(result))
    stored = sum(1 for r in results if r.status == "stored")
    refused = sum(1 for r in results if r.status == "refused")
    click.echo(n_("cli.intake.replayed", len(results), stored=stored, refused=refused))
    if refused:
        raise SystemExit(1)


def _line(result: Replayed) -> str:
    if result.status == "stored":
        return _("cli.intake.result.stored", id=result.id, source=result.source, external_id=result.external_id)
    if result.status == "refused":
        problems = "; ".join(f"{p['field']}: {p['message']}" for p in result.problems)
        return _("cli.intake.result.refused", id=result.id, source=result.source, problems=problems)
    if result.status == "purged":
        return _("cli.intake.result.purged", id=result.id, source=result.source)
    if result.status == "no source":
        return _("cli.intake.result.no_source", id=result.id, source=result.source)
    if result.status == "resolved before":
        return _("cli.intake.result.resolved_before", id=result.id, source=result.source)
    return _("cli.intake.result.unknown", id=result.id)


async def _replay(
    settings: Settings, agreement: Agreement, ids: tuple[int, ...], source: str | None, every: bool
) -> list[Replayed]:
    # The runtime (database, outbox) is imported only when failures are replayed.
    from bot.runtime import Runtime
    from handlers.intake.failures import replay as replay_failures

    runtime = Runtime(settings=settings, agreement=agreement)
    try:
        await runtime.prepare()
        return await replay_failures(runtime.services, ids=ids, source=source, every=every)
    finally:
        await runtime.db.dispose()
