"""The ``baton`` command: one group, one small module per subcommand, each imported on first use.

``baton --help`` imports no subcommand: it must answer at once, without SQLAlchemy, matplotlib,
botbuilder or slack-bolt (``tests/cli/test_cli_start.py``; timings in ``bench/cli_start.py``).
"""

from __future__ import annotations

import click

from bot.cli.lazy import LazyCommand, LazyGroup

COMMANDS = {
    "config": LazyCommand("bot.cli.config_cmd", "config", "Work with the configuration file."),
    "db": LazyCommand("bot.cli.db_cmd", "db", "Manage the database schema."),
    "digest": LazyCommand(
        "bot.cli.digest_cmd",
        "digest",
        "Last week's digest for each manager and for marketing (normally sent on the configured schedule).",
    ),
    "import": LazyCommand(
        "bot.cli.import_cmd",
        "import_leads",
        "Import leads from a CSV file (column mapping in the [import] section of the config).",
    ),
    "intake": LazyCommand(
        "bot.cli.intake_cmd",
        "intake",
        "Leads a source sent that could not be taken: list them, and run them again after a fix.",
    ),
    "lead": LazyCommand("bot.cli.lead_cmd", "lead", "Work with one lead."),
    "manifest": LazyCommand(
        "bot.cli.manifest_cmd", "manifest", "Print an app manifest to paste into the platform's developer console."
    ),
    "outbox": LazyCommand(
        "bot.cli.outbox_cmd", "outbox", "Inspect the outbox: chat messages and CRM webhooks waiting, sent or failed."
    ),
    "simulate": LazyCommand(
        "bot.cli.simulate_cmd",
        "simulate",
        "Replay a period's stored leads against a draft agreement (reads only).",
    ),
    "serve": LazyCommand(
        "bot.cli.serve_cmd", "serve", "Run Baton: HTTP intake API, Slack and Teams endpoints, delivery and timers."
    ),
}


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Baton: the marketing-to-sales lead handoff, in Slack and Microsoft Teams."""


def main() -> None:
    cli()
