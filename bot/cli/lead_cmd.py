"""``baton lead forget <email>``: erase a person's contact details (right to erasure)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import click

from bot.cli.common import config_option, load

if TYPE_CHECKING:
    from bot.settings import Settings
    from handlers.handoff.outcome import Outcome
    from scoring.agreement import Agreement


@click.group()
def lead() -> None:
    """Work with one lead."""


@lead.command("forget")
@config_option
@click.argument("email")
@click.option(
    "--by",
    "actor",
    default="cli",
    show_default=True,
    help="Who asked, for the audit trail (e.g. your email or a ticket id).",
)
def forget(config_path: str | None, email: str, actor: str) -> None:
    """Remove the contact details of the lead with EMAIL everywhere, keeping anonymous counts.

    Exits 1 if no lead has that email (nothing is changed).
    """
    settings, agreement = load(config_path)
    outcome = asyncio.run(_forget(settings, agreement, email, actor))
    if not outcome.ok:
        click.echo(outcome.message, err=True)
        raise SystemExit(1)
    click.echo(outcome.message)


async def _forget(settings: Settings, agreement: Agreement, email: str, actor: str) -> Outcome:
    # The runtime (database, chat platforms) is imported only when a lead is forgotten.
    from bot.runtime import Runtime
    from handlers.privacy.erasure import forget as forget_lead

    runtime = Runtime(settings=settings, agreement=agreement)
    try:
        await runtime.prepare()
        return await forget_lead(runtime.services, email, f"cli:{actor}")
    finally:
        await runtime.db.dispose()
