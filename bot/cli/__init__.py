"""The ``baton`` command: one group, one small module per subcommand."""

from __future__ import annotations

import click

from bot.cli import config_cmd, db_cmd, digest_cmd, import_cmd, lead_cmd, manifest_cmd, outbox_cmd, serve_cmd
from bot.cli.manifest_teams import teams as manifest_teams


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Baton: the marketing-to-sales lead handoff, in Slack and Microsoft Teams."""


cli.add_command(serve_cmd.serve)
cli.add_command(config_cmd.config)
cli.add_command(db_cmd.db)
cli.add_command(digest_cmd.digest)
cli.add_command(import_cmd.import_leads)
cli.add_command(lead_cmd.lead)
cli.add_command(manifest_cmd.manifest)
manifest_cmd.manifest.add_command(manifest_teams)
cli.add_command(outbox_cmd.outbox)


def main() -> None:
    cli()
