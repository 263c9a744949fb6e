"""``baton config check``: validate the agreement without starting anything."""

from __future__ import annotations

import click

from bot.cli.common import config_option, load
from bot.reach_report import reach_warnings
from bot.secret_report import secret_warnings
from handlers.text import _, n_
from handlers.text.words import version_words


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
    if settings.teams_enabled:
        click.echo(_("cli.config.teams_note"), err=True)
