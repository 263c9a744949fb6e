"""``baton import leads.csv``: the intake API's work, from a CSV file."""

from __future__ import annotations

import asyncio
import contextlib
import csv
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from pydantic import ValidationError

from bot.cli.common import config_option, load
from handlers.text import _, n_
from scoring.lead import LEAD_FIELDS

if TYPE_CHECKING:
    from handlers.intake.leads import LeadIn

_INTEGER_FIELDS = {"employees"}
_NUMBER_FIELDS = {"revenue"}


def row_to_lead(row: dict[str, str], columns: dict[str, str]) -> dict[str, Any]:
    """Map CSV columns to lead fields: configured names first, then columns named like the fields."""
    lead: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for column, raw in row.items():
        if column is None or raw is None or not raw.strip():
            continue
        name = columns.get(column, column.strip())
        value: Any = raw.strip()
        if name in _INTEGER_FIELDS:
            value = int(value.replace(",", "")) if value.replace(",", "").isdigit() else value
        elif name in _NUMBER_FIELDS:
            with contextlib.suppress(ValueError):  # left as text: validation names the field
                value = float(value.replace(",", ""))
        if name in LEAD_FIELDS:
            lead[name] = value
        else:
            custom[name] = value
    if custom:
        lead["custom"] = custom
    return lead


@click.command("import")
@config_option
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_leads(config_path: str | None, path: Path) -> None:
    """Import leads from a CSV file (column mapping in the [import] section of the config)."""
    # The intake (SQLAlchemy, the HTTP API's error wording) is imported only when a file is imported.
    from bot.api.errors import validation_problems
    from handlers.intake.leads import LeadIn

    settings, agreement = load(config_path)
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    leads: list[tuple[int, LeadIn]] = []
    problems: list[str] = []
    for number, row in enumerate(rows, start=2):  # line 1 is the header
        try:
            leads.append((number, LeadIn.model_validate(row_to_lead(row, agreement.import_columns))))
        except ValidationError as exc:
            problems += [f"line {number}: {p['field']}: {p['message']}" for p in validation_problems(exc)]
    if problems:
        click.echo(n_("cli.import.problems", len(problems), path=path), err=True)
        for line in problems[:50]:
            click.echo(f"  {line}", err=True)
        raise SystemExit(1)
    summary = asyncio.run(_import(settings, agreement, leads))
    counts = ", ".join(f"{v} {k}" for k, v in sorted(summary.items()))
    click.echo(n_("cli.import.done", len(leads), counts=counts))
    if summary["failed"]:
        raise SystemExit(1)


async def _import(settings: Any, agreement: Any, leads: list[tuple[int, LeadIn]]) -> Counter[str]:
    from bot.runtime import Runtime
    from handlers.intake import leads as intake

    runtime = Runtime(settings=settings, agreement=agreement)
    await runtime.prepare()
    summary: Counter[str] = Counter()
    failed: list[str] = []
    try:
        with click.progressbar(leads, label=_("cli.import.progress"), show_pos=True) as bar:
            for line, lead in bar:
                try:
                    (outcome,) = await intake.ingest(runtime.services, [lead], actor="csv-import")
                except intake.PartlyStored:
                    # Logged with its cause; the rest of the file still goes in.
                    summary["failed"] += 1
                    failed.append(f"line {line}: {lead.external_id}")
                    continue
                summary[outcome.status] += 1
                summary["offered" if outcome.offered else ("qualified" if outcome.qualified else "not qualified")] += 1
    finally:
        await runtime.db.dispose()
    for where in failed:
        click.echo(_("cli.import.not_stored", where=where), err=True)
    return summary
