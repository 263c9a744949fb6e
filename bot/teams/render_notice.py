"""Notices (nudges, escalations, answers, feedback, digests) as Adaptive Cards."""

from __future__ import annotations

from typing import Any

from bot.teams.cards import Card, buttons, card, text
from bot.teams.markdown import bold, escape
from handlers.text import _
from handlers.views.notice import Notice, Table

# Teams caps an Adaptive Card at about 28 KB and a whole message at about 100 KB: a small chart
# goes inside the card, a bigger one beside it as an inline image attachment, a huge one is left out.
MAX_CARD_IMAGE_B64 = 20_000
MAX_ATTACHED_IMAGE_B64 = 90_000


def image_placement(image_png_b64: str | None) -> str | None:
    """Where a notice's chart goes: ``"card"``, ``"attachment"``, ``"omitted"`` or ``None`` (no chart)."""
    if not image_png_b64:
        return None
    if len(image_png_b64) <= MAX_CARD_IMAGE_B64:
        return "card"
    return "attachment" if len(image_png_b64) <= MAX_ATTACHED_IMAGE_B64 else "omitted"


def _table(table: Table) -> dict[str, Any]:
    def row(cells: list[str], header: bool = False) -> dict[str, Any]:
        return {
            "type": "TableRow",
            "cells": [{"type": "TableCell", "items": [text(bold(c) if header else escape(c))]} for c in cells],
        }

    width = len(table.columns)
    rows = [row(table.columns, header=True)] + [row((r + [""] * width)[:width]) for r in table.rows]
    return {
        "type": "Table",
        "columns": [{"width": 1} for _column in table.columns],
        "rows": rows,
        "firstRowAsHeader": True,
        "showGridLines": True,
    }


def notice_card(view: Notice, *, image_png_b64: str | None = None) -> Card:
    """The notice; ``image_png_b64`` (a chart) is embedded as a data URI when small enough
    (see ``image_placement``; the sender attaches a bigger one next to the card)."""
    body: list[dict[str, Any]] = [text(bold(view.title), size="Medium", weight="Bolder")]
    if view.mention:
        body.append(text(_("notice.for", name=bold(view.mention.name)), spacing="None", isSubtle=True))
    if view.resolved:
        # A live notice once the offer is settled: what happened, where the buttons were.
        body.append(text(f"✅ {bold(view.resolved)}", spacing="Medium", color="Good"))
    body += [text(escape(line)) for line in view.lines]
    if view.fields:
        body.append(
            {"type": "FactSet", "facts": [{"title": escape(f.label), "value": escape(f.value)} for f in view.fields]}
        )
    body += [_table(t) for t in view.tables]
    placement = image_placement(image_png_b64)
    if placement and view.image_title:
        body.append(text(bold(view.image_title), spacing="Medium"))
    if placement == "card":
        body.append(
            {
                "type": "Image",
                "url": f"data:image/png;base64,{image_png_b64}",
                "altText": view.image_title or "chart",
                "size": "Stretch",
            }
        )
    elif placement == "attachment":
        body.append(text(_("notice.chart_attached"), isSubtle=True))
    elif placement == "omitted":
        body.append(text(_("notice.chart_omitted"), isSubtle=True))
    if view.context:
        body.append(text(escape(view.context), isSubtle=True, size="Small"))
    inputs, actions = buttons(view.buttons, notice=True)
    return card(body + inputs, actions, fallback=view.plain_text())
