"""The digest chart: the week's funnel beside its rejection reasons, as PNG bytes.

Drawn on a bare ``Figure`` with the Agg canvas (no pyplot, so no global state
and safe in a server process); the same input gives the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from handlers.text import _

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_FUNNEL_COLOURS = ["#4C72B0", "#55A868", "#C44E52", "#8172B2"]
_REASON_COLOUR = "#DD8452"


def digest_chart(title: str, funnel: Sequence[tuple[str, int]], reasons: Sequence[tuple[str, int]]) -> bytes:
    """A two-panel PNG: ``funnel`` stages (label, count) and rejection ``reasons`` (label, count)."""
    figure = Figure(figsize=(9, 3.6), dpi=100)
    FigureCanvasAgg(figure)
    left, right = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.3]})
    figure.suptitle(title, fontsize=11)

    labels = [label for label, _count in funnel]
    counts = [count for _label, count in funnel]
    bars = left.bar(labels, counts, color=_FUNNEL_COLOURS[: len(counts)] or None)
    left.bar_label(bars, labels=[str(c) for c in counts], padding=2, fontsize=9)
    left.set_title(_("chart.funnel"), fontsize=10)
    left.set_ylim(0, max([*counts, 1]) * 1.2)
    left.yaxis.set_major_locator(MaxNLocator(integer=True))
    left.spines[["top", "right"]].set_visible(False)

    if reasons:
        # Largest at the top: barh draws the first item at the bottom.
        names = [_short(label) for label, _count in reversed(reasons)]
        values = [count for _label, count in reversed(reasons)]
        rbars = right.barh(names, values, color=_REASON_COLOUR)
        right.bar_label(rbars, labels=[str(v) for v in values], padding=2, fontsize=9)
        right.set_xlim(0, max(values) * 1.25)
        right.xaxis.set_major_locator(MaxNLocator(integer=True))
        right.tick_params(axis="y", labelsize=8)
    else:
        right.text(0.5, 0.5, _("chart.no_rejections"), ha="center", va="center", transform=right.transAxes)
        right.set_xticks([])
        right.set_yticks([])
    right.set_title(_("chart.rejection_reasons"), fontsize=10)
    right.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()

    buffer = io.BytesIO()
    # No "Software" stamp, so the bytes do not change with the matplotlib version string.
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _short(label: str, width: int = 28) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"
