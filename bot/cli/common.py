"""What every subcommand shares: the --config option and turning config errors into messages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from bot.settings import ConfigError, Settings, load_agreement_file, load_settings
from handlers.text import _
from scoring.agreement import Agreement

F = TypeVar("F", bound=Callable[..., Any])


def config_option(func: F) -> F:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="Agreement file (default: $BATON_CONFIG or ./baton.toml).",
    )(func)


def load(config_path: str | None, **overrides: object) -> tuple[Settings, Agreement]:
    """Settings and agreement, or exit 2 listing every problem by its path."""
    try:
        settings = load_settings(config_path, None, **overrides)
        return settings, load_agreement_file(settings.config_path)
    except ConfigError as exc:
        click.echo(_("cli.config.invalid", source=exc.source), err=True)
        for line in exc.problems:
            click.echo(f"  {line}", err=True)
        raise SystemExit(2) from None
