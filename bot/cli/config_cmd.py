"""``baton config check``: validate the agreement without starting anything."""

from __future__ import annotations

import click

from bot.cli.common import config_option, load
from bot.reach_report import reach_warnings


@click.group()
def config() -> None:
    """Work with the configuration file."""


@config.command("check")
@config_option
def check(config_path: str | None) -> None:
    """Validate the configuration and report every problem by its path; warn about reps no
    configured chat platform reaches (they would get no leads)."""
    settings, agreement = load(config_path)
    reps = sum(len(t.reps) for t in agreement.teams)
    click.echo(
        f"{settings.config_path}: OK (definition v{agreement.definition.version}; "
        f"{len(agreement.teams)} teams, {reps} reps, {len(agreement.scoring.explicit)} explicit rules, "
        f"{len(agreement.scoring.implicit.events)} event types, {len(agreement.sla.policies)} SLA policies)"
    )
    for line in reach_warnings(settings, agreement):
        click.echo(f"warning: {line}", err=True)
    if settings.teams_enabled:
        click.echo(
            "note: on Teams a rep without teams_id becomes reachable once they install the Baton app; "
            "`baton serve` counts the installs at start",
            err=True,
        )
