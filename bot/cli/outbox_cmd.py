"""``baton outbox list`` and ``baton outbox retry``: see what waits, what failed and why; send again."""

from __future__ import annotations

import asyncio
from datetime import datetime

import click
from sqlalchemy import select, update

from bot.settings import ConfigError, Settings, load_settings
from handlers.clock import SystemClock
from handlers.text import _, n_
from store.db import Database
from store.models import OutboxMessage, OutboxStatus

_COLUMNS = ("id", "status", "platform", "kind", "attempts", "next attempt", "created", "code", "last error")


@click.group()
def outbox() -> None:
    """Inspect the outbox: chat messages and CRM webhooks waiting, sent or failed."""


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        raise click.ClickException("; ".join(exc.problems)) from None


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S") if at else "-"


@outbox.command("list")
@click.option(
    "--status",
    type=click.Choice([s.value for s in OutboxStatus]),
    default=None,
    help="Only rows with this status (default: all).",
)
@click.option("--platform", default=None, help="Only rows for this platform (slack, teams, webhook).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option(
    "--width",
    type=click.IntRange(20, 2000),
    default=100,
    show_default=True,
    help="Cut the error text to this many characters.",
)
def list_rows(status: str | None, platform: str | None, limit: int, width: int) -> None:
    """Newest first: platform, kind, attempts, next attempt, the platform's error code and the last error."""
    rows = asyncio.run(_list(_settings(), status, platform, limit))
    if not rows:
        click.echo(_("cli.outbox.none_with_status", status=status) if status else _("cli.outbox.none"))
        return
    table = [
        [
            str(r.id),
            r.status,
            r.platform,
            r.kind,
            str(r.attempts),
            _when(r.next_attempt_at) if r.status == OutboxStatus.PENDING else "-",
            _when(r.created_at),
            r.error_code or "-",
            (r.last_error or "").replace("\n", " ")[:width],
        ]
        for r in rows
    ]
    widths = [max(len(c), *(len(line[i]) for line in table)) for i, c in enumerate(_COLUMNS)]
    click.echo("  ".join(c.ljust(w) for c, w in zip(_COLUMNS, widths, strict=True)).rstrip())
    for line in table:
        click.echo("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())


async def _list(settings: Settings, status: str | None, platform: str | None, limit: int) -> list[OutboxMessage]:
    database = Database(settings.database_url)
    try:
        query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
        if status:
            query = query.where(OutboxMessage.status == status)
        if platform:
            query = query.where(OutboxMessage.platform == platform)
        async with database.read() as session:
            return list((await session.scalars(query)).all())
    finally:
        await database.dispose()


@outbox.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all-failed", is_flag=True, help="Retry every failed row.")
def retry(ids: tuple[int, ...], all_failed: bool) -> None:
    """Put failed rows back in the queue (after fixing the receiver or the configuration)."""
    if not ids and not all_failed:
        raise click.UsageError("give outbox row ids, or --all-failed")
    count = asyncio.run(_retry(_settings(), ids, all_failed))
    click.echo(n_("cli.outbox.requeued", count))


async def _retry(settings: Settings, ids: tuple[int, ...], all_failed: bool) -> int:
    database = Database(settings.database_url)
    try:
        statement = (
            update(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.FAILED)
            .values(
                status=OutboxStatus.PENDING,
                attempts=0,
                next_attempt_at=SystemClock().now(),
                claimed_at=None,
                error_code=None,
            )
        )
        if not all_failed:
            statement = statement.where(OutboxMessage.id.in_(ids))
        async with database.transaction() as session:
            result = await session.execute(statement)
            return int(getattr(result, "rowcount", 0) or 0)
    finally:
        await database.dispose()
