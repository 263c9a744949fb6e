"""``baton serve``: migrate, then run the server."""

from __future__ import annotations

import asyncio

import click

from bot.cli.common import config_option, load


@click.command()
@config_option
@click.option("--host", default=None, help="Address to listen on (default $BATON_HOST or 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default $BATON_PORT or 3978).")
@click.option("--log-format", type=click.Choice(["text", "json"]), default=None)
def serve(config_path: str | None, host: str | None, port: int | None, log_format: str | None) -> None:
    """Run Baton: HTTP intake API, Slack and Teams endpoints, delivery and timers."""
    # Imported here, not at the top, so that `baton serve --help` answers at once.
    from bot.logs import setup_logging
    from bot.server import serve as run_server

    settings, agreement = load(config_path, host=host, port=port, log_format=log_format)
    setup_logging(settings.log_format, settings.log_level)
    asyncio.run(run_server(settings, agreement))
