"""The ``baton`` command: one group, one small module per subcommand."""

from __future__ import annotations

import click

from bot.cli import config_cmd, db_cmd, import_cmd, serve_cmd


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Baton: the marketing-to-sales lead handoff, in Slack and Microsoft Teams."""


cli.add_command(serve_cmd.serve)
cli.add_command(config_cmd.config)
cli.add_command(db_cmd.db)
cli.add_command(import_cmd.import_leads)


def main() -> None:
    cli()
