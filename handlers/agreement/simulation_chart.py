"""The simulation chart: MQLs per week before and after the draft, against the commitment (PNG)."""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from handlers.text import _
from scoring.simulate import SimulationReport


def simulation_chart(report: SimulationReport) -> bytes:
    """Grouped bars per week (replayed before, after) and the weekly commitment as a line."""
    figure = Figure(figsize=(10, 4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    weeks = report.weeks
    x = list(range(len(weeks)))
    before = [report.mqls["before"].get(w, 0) for w in weeks]
    after = [report.mqls["after"].get(w, 0) for w in weeks]
    axes.bar([i - 0.2 for i in x], before, width=0.4, color="#8C8C8C", label=_("simulate.chart.before"))
    axes.bar([i + 0.2 for i in x], after, width=0.4, color="#4C72B0", label=_("simulate.chart.after"))
    if report.commitment_per_week:
        axes.axhline(report.commitment_per_week, color="#C44E52", linestyle="--", label=_("simulate.chart.commitment"))
    axes.set_xticks(x, [w.split("-")[-1] for w in weeks], fontsize=8)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(_("simulate.chart.title", period=report.period), fontsize=11)
    axes.legend(fontsize=8, loc="best", framealpha=0.9)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
