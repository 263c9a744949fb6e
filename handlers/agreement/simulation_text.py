"""``baton simulate``'s report as readable lines (every sentence from the catalogue)."""

from __future__ import annotations

from handlers.agreement.changes import change_text
from handlers.text import _
from scoring.simulate import SimulationReport

TOP = 10  # rows shown per source / campaign table; --json has them all


def _delta(before: int, after: int) -> str:
    return f"{after - before:+d}"


def report_lines(report: SimulationReport) -> list[str]:
    """The table ``baton simulate`` prints."""
    lines = [
        _("simulate.title", period=report.period, leads=report.leads),
        _(
            "simulate.totals",
            recorded=report.totals["recorded"],
            before=report.totals["before"],
            after=report.totals["after"],
            delta=_delta(report.totals["before"], report.totals["after"]),
        ),
        "",
        _("simulate.weeks_heading", commitment=report.commitment_per_week),
        f"  {'week':<10} {'recorded':>9} {'before':>7} {'after':>7} {'vs commitment':>14}",
    ]
    for week in report.weeks:
        after = report.mqls["after"].get(week, 0)
        lines.append(
            f"  {week:<10} {report.recorded.get(week, 0):>9} {report.mqls['before'].get(week, 0):>7} {after:>7}"
            f" {after - report.commitment_per_week:>+14.1f}"
        )
    for heading, table in (
        (_("simulate.sources_heading"), report.sources),
        (_("simulate.campaigns_heading"), report.campaigns),
        (_("simulate.teams_heading"), report.teams),
    ):
        lines += ["", heading]
        for name, pair in list(table.items())[:TOP]:
            lines.append(
                f"  {name[:40]:<40} {pair['before']:>7} {pair['after']:>7} {_delta(pair['before'], pair['after']):>6}"
            )
    lines += ["", _("simulate.reps_heading")]
    for rep in report.reps:
        flag = _("simulate.over_capacity") if rep["busiest_week_after"] > rep["capacity"] else ""
        lines.append(
            f"  {rep['rep'][:32]:<32} {rep['team'][:12]:<12} {rep['before']:>7} {rep['after']:>7}"
            f" {rep['busiest_week_after']:>6}/{rep['capacity']:<4} {flag}"
        )
    lines += ["", _("simulate.rejected_heading")]
    if not report.rejected_total:
        lines.append("  " + _("simulate.no_rejections"))
    for reason, total in sorted(report.rejected_total.items(), key=lambda kv: -kv[1]):
        lines.append(
            "  "
            + _("simulate.rejected_line", reason=reason, still=report.rejected_still_sent.get(reason, 0), total=total)
        )
    lines.append(_("simulate.held_back", held=report.accepted_held_back, total=report.accepted_total))
    lines.append(_("simulate.sql_held_back", held=report.sql_held_back, total=report.sql_total))
    back = report.recycled
    lines.append(
        _(
            "simulate.recycled",
            total=back["total"],
            came_back_recorded=back["came_back_recorded"],
            came_back_before=back["came_back_before"],
            came_back_after=back["came_back_after"],
        )
    )
    lines += ["", _("simulate.changes_heading", gained=report.gained, lost=report.lost)]
    effects = {e["change"]: e for e in report.effects}
    if not report.changes:
        lines.append("  " + _("agreement.change.none"))
    for index, change in enumerate(report.changes):
        effect = effects.get(index)
        suffix = " " + _("simulate.effect", gained=effect["gained"], lost=effect["lost"]) if effect is not None else ""
        lines.append(f"  - {change_text(change)}{suffix}")
    return lines


def empty_text(period: str) -> str:
    return _("simulate.no_leads", period=period)
