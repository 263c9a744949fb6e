"""A click group whose subcommands are imported only when one of them runs.

Each subcommand's module may import what it needs (SQLAlchemy, matplotlib, botbuilder,
slack-bolt) at the top: ``baton --help`` lists the commands from the one-line summaries
registered here and imports none of them, and ``baton config check`` imports only its own
module. This is the pattern of click's documentation ("Lazily Loading Subcommands"), plus
the summaries, which click would otherwise read from each loaded command.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import click

# Summaries are whole first sentences (click's default cuts them at about 45 characters).
SUMMARY_LIMIT = 200


@dataclass(frozen=True)
class LazyCommand:
    """Where a subcommand lives (``module``, ``attribute``) and its line in the group's help.

    ``summary`` must be the command's own short help (``get_short_help_str(SUMMARY_LIMIT)``);
    a test compares them, so the listing cannot drift from the command.
    """

    module: str
    attribute: str
    summary: str

    def load(self) -> click.Command:
        command = getattr(importlib.import_module(self.module), self.attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.module}.{self.attribute} is not a click command")
        return command


class LazyGroup(click.Group):
    """A group whose ``lazy`` subcommands are imported on first use."""

    def __init__(self, *args: Any, lazy: dict[str, LazyCommand] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, LazyCommand] = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            # Cache it: click may ask again (help, completion), and import once is enough.
            self.add_command(self.lazy[cmd_name].load(), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # click's own version loads every command to read its short help; use the summaries.
        rows: list[tuple[str, str]] = []
        for name in self.list_commands(ctx):
            if name in self.commands:
                command = self.commands[name]
                if command.hidden:
                    continue
                rows.append((name, command.get_short_help_str(SUMMARY_LIMIT)))
            else:
                rows.append((name, self.lazy[name].summary))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
