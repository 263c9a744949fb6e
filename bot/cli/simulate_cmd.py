"""``baton simulate --config draft.toml``: replay a period's stored leads against a draft agreement."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click

from bot.cli.common import load
from bot.settings import ConfigError, load_agreement_file
from handlers.text import _


@click.command("simulate")
@click.option(
    "--config",
    "draft_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="The draft agreement to try.",
)
@click.option(
    "--running",
    "running_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="The running agreement to compare with (default: $BATON_CONFIG or ./baton.toml).",
)
@click.option("--period", default="last quarter", show_default=True, help='e.g. "this quarter", "last 90 days".')
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option("--chart", "chart_path", type=click.Path(dir_okay=False), default=None, help="Write a PNG chart here.")
def simulate(draft_path: str, running_path: str | None, period: str, as_json: bool, chart_path: str | None) -> None:
    """Replay a period's stored leads against a draft agreement (reads only).

    The period's leads and activities go through the engine's own scoring and routing under the
    running agreement and under the draft; the figures say what would have changed."""
    from handlers.agreement.simulation_text import empty_text, report_lines
    from handlers.clock import SystemClock
    from handlers.queries.periods import PeriodError
    from handlers.services import Services
    from handlers.simulation import period_of
    from handlers.simulation import simulate as run_simulation
    from store.db import Database

    settings, running = load(running_path)
    try:
        draft = load_agreement_file(Path(draft_path))
    except ConfigError as exc:
        click.echo(_("cli.config.invalid", source=exc.source), err=True)
        for line in exc.problems:
            click.echo(f"  {line}", err=True)
        raise SystemExit(2) from None
    clock = SystemClock()
    try:
        span = period_of(period, running, clock.now())
    except PeriodError as exc:
        raise click.UsageError(str(exc)) from None

    async def run() -> object:
        database = Database(settings.database_url)
        try:
            return await run_simulation(Services(db=database, agreement=running, clock=clock), draft, span)
        finally:
            await database.dispose()

    from sqlalchemy.exc import DBAPIError

    from scoring.simulate import SimulationReport

    try:
        report = asyncio.run(run())
    except DBAPIError as exc:
        raise click.ClickException(
            f"cannot read the database ({type(exc.orig).__name__}); is it migrated? Run `baton db upgrade`."
        ) from None
    assert isinstance(report, SimulationReport)
    if report.leads == 0:
        click.echo(empty_text(report.period))
        raise SystemExit(1)
    if chart_path:
        from handlers.agreement.simulation_chart import simulation_chart

        Path(chart_path).write_bytes(simulation_chart(report))
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2))
    else:
        click.echo("\n".join(report_lines(report)))
