"""``baton manifest``: print chat app manifests with this deployment's URLs filled in.

The group is importable as ``bot.cli.manifest_cmd.manifest``; each platform has its own
subcommand (``slack`` here, ``teams`` in ``bot.cli.manifest_teams``, imported when it runs).
"""

from __future__ import annotations

import json

import click

from bot.cli.lazy import LazyCommand, LazyGroup

_TEAMS = LazyCommand(
    "bot.cli.manifest_teams",
    "teams",
    "Build the Microsoft Teams app package (manifest 1.25, the bot's commands, the two icons).",
)


@click.group(cls=LazyGroup, lazy={"teams": _TEAMS})
def manifest() -> None:
    """Print an app manifest to paste into the platform's developer console."""


@manifest.command("slack")
@click.option(
    "--url",
    default=None,
    metavar="https://HOST",
    help="Public https base URL of Baton; /slack/events is added. Not needed with --socket.",
)
@click.option("--socket", is_flag=True, help="Socket Mode (SLACK_APP_TOKEN): no request URLs.")
def slack(url: str | None, socket: bool) -> None:
    """The Slack app manifest (JSON) for api.slack.com/apps → Create New App → From a manifest."""
    from bot.slack.manifest import slack_manifest

    if not socket and not url:
        raise click.UsageError("give --url https://your-host (or --socket for Socket Mode)")
    try:
        data = slack_manifest(url, socket=socket)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--url") from None
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))
