"""``baton config check``: validate the agreement without starting anything."""

from __future__ import annotations

import click

from bot.cli.common import config_option, load
from bot.reach_report import reach_warnings
from bot.secret_report import secret_warnings
from bot.settings import ConfigError, Settings, load_agreement_file
from handlers.text import _, n_
from handlers.text.words import version_words
from scoring.agreement import Agreement

# Who recorded an agreement version, in the versions table (not shown to users).
RECORDED_BY = "config check"


@click.group()
def config() -> None:
    """Work with the configuration file."""


@config.command("check")
@config_option
@click.option(
    "--record",
    is_flag=True,
    help="Also record this agreement's version (content hash and change) in the database.",
)
def check(config_path: str | None, record: bool) -> None:
    """Validate the configuration and report every problem by its path; warn about reps no
    configured chat platform reaches (they would get no leads)."""
    settings, agreement = load(config_path)
    reps = sum(len(t.reps) for t in agreement.teams)
    counts = ", ".join(
        (
            n_("cli.config.teams", len(agreement.teams)),
            n_("cli.config.reps", reps),
            n_("cli.config.explicit_rules", len(agreement.scoring.explicit)),
            n_("cli.config.event_types", len(agreement.scoring.implicit.events)),
            n_("cli.config.sla_policies", len(agreement.sla.policies)),
        )
    )
    click.echo(
        _(
            "cli.config.ok",
            path=settings.config_path,
            version=version_words(agreement.definition.version),
            counts=counts,
        )
    )
    for line in [*reach_warnings(settings, agreement), *secret_warnings(settings, agreement)]:
        click.echo(_("cli.config.warning", warning=line), err=True)
    if record:
        _record(settings, agreement)
    if settings.teams_enabled:
        click.echo(_("cli.config.teams_note"), err=True)


def _record(settings: Settings, agreement: Agreement) -> None:
    import asyncio

    from sqlalchemy.exc import DBAPIError

    from handlers.agreement.changes import changes_text
    from handlers.agreement.signoff import unsigned_flag
    from handlers.agreement.versions import Recorded
    from handlers.agreement.versions import record as record_version
    from handlers.clock import SystemClock
    from handlers.services import Services
    from store.db import Database

    async def run() -> tuple[Recorded, str | None]:
        database = Database(settings.database_url)
        try:
            async with database.transaction() as session:
                recorded = await record_version(session, agreement, SystemClock().now(), RECORDED_BY)
            return recorded, await unsigned_flag(Services(db=database, agreement=agreement))
        finally:
            await database.dispose()

    try:
        recorded, unsigned = asyncio.run(run())
    except DBAPIError as exc:
        raise click.ClickException(
            f"cannot write to the database ({type(exc.orig).__name__}); is it migrated? Run `baton db upgrade`."
        ) from None
    values = {
        "version": recorded.version,
        "hash": recorded.content_hash[:12],
        "day": f"{recorded.changed_on:%-d %b %Y}",
    }
    if unsigned:
        click.echo(_("cli.config.warning", warning=unsigned), err=True)
    if not recorded.new:
        click.echo(_("cli.config.record_unchanged", **values))
        return
    if recorded.first:
        click.echo(_("cli.config.record_first", **values))
    else:
        click.echo(_("cli.config.recorded", **values))
    if recorded.previous_unreadable:
        click.echo(_("cli.config.record_previous_unreadable"))
    elif not recorded.first:
        for line in changes_text(recorded.changes):
            click.echo(f"  {line}")


@config.command("diff")
@click.argument("old", type=click.Path(dir_okay=False))
@click.argument("new", type=click.Path(dir_okay=False))
def diff_files(old: str, new: str) -> None:
    """Show what changes from agreement file OLD to NEW, in words."""
    from pathlib import Path

    from handlers.agreement.changes import changes_text
    from scoring.agreement_diff import diff

    agreements = []
    for path in (old, new):
        try:
            agreements.append(load_agreement_file(Path(path)))
        except ConfigError as exc:
            click.echo(_("cli.config.invalid", source=exc.source), err=True)
            for line in exc.problems:
                click.echo(f"  {line}", err=True)
            raise SystemExit(2) from None
    for line in changes_text(diff(agreements[0], agreements[1])):
        click.echo(line)
